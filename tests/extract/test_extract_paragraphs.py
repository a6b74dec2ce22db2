"""Paragraph rebuilding, de-hyphenation and page furniture: property tests (hypothesis) on
lines laid out the way a PDF page sets them, plus the cases the properties do not pin down."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.paragraphs import (
    Line,
    document_vocabulary,
    is_list_start,
    is_page_number,
    join_lines,
    rebuild_paragraphs,
    remove_page_furniture,
    split_footnotes,
)

LOWER = "abcdefghijklmnopqrstuvwxyzéü"
words_st = st.text(alphabet=LOWER, min_size=1, max_size=9)
line_st = st.lists(words_st, min_size=1, max_size=8).map(" ".join)

CHAR_W = 5.0
SIZE = 10.0
PITCH = 12.0


def wrap(words: list[str], width_chars: int) -> list[str]:
    lines, current = [], ""
    for w in words:
        if current and len(current) + 1 + len(w) > width_chars:
            lines.append(current)
            current = w
        else:
            current = f"{current} {w}" if current else w
    if current:
        lines.append(current)
    return lines


def set_column(paragraphs: list[list[str]], width_chars: int = 40, gap: float = 10.0,
               indent: float = 0.0, page: int = 1, block: int = 0, x0: float = 50.0,
               top: float = 100.0) -> list[Line]:
    """Lay paragraphs out as a justified column: full-width lines, a short last line, and a
    vertical gap (or a first-line indent) between paragraphs."""
    full = x0 + width_chars * CHAR_W
    out: list[Line] = []
    for words in paragraphs:
        wrapped = wrap(words, width_chars)
        for i, text in enumerate(wrapped):
            left = x0 + (indent if i == 0 else 0.0)
            right = full if i < len(wrapped) - 1 else left + len(text) * CHAR_W
            out.append(Line(text=text, x0=left, x1=right, top=top, bottom=top + SIZE,
                            size=SIZE, page=page, block=block))
            top += PITCH
        top += gap
    return out


def letters(text: str) -> str:
    return re.sub(r"[\s\-\u2010\u00ad]", "", text)


# -- de-hyphenation ---------------------------------------------------------------------------

@given(st.lists(line_st, min_size=1, max_size=6))
def test_lines_without_hyphens_join_with_single_spaces(lines):
    assert join_lines(lines) == " ".join(" ".join(ln.split()) for ln in lines)


@given(st.lists(st.text(alphabet=LOWER + "ABC -‐\u00ad.,", min_size=0, max_size=30), max_size=6))
def test_joining_loses_no_letters_and_leaves_one_line(lines):
    out = join_lines(lines)
    assert letters(out) == letters("".join(lines))
    assert "\n" not in out and "  " not in out and out == out.strip()


@given(line_st, words_st, words_st, line_st)
def test_line_end_hyphen_before_lower_case_is_a_word_break(before, head, tail, after):
    out = join_lines([f"{before} {head}-", f"{tail} {after}"])
    assert f" {head}{tail} " in f" {out} "
    assert f"{head}-{tail}" not in out


@given(words_st, words_st)
def test_vocabulary_keeps_a_real_compound_hyphen(head, tail):
    vocab = {f"{head}-{tail}"}
    assert join_lines([f"the {head}-", f"{tail} works"], vocab) == f"the {head}-{tail} works"


@given(words_st, st.sampled_from(["19", "Mediterranean", "2020", "IX"]))
def test_hyphen_before_capital_or_digit_is_kept(head, tail):
    assert join_lines([f"a {head}-", f"{tail} b"]) == f"a {head}-{tail} b"


def test_dehyphenation_examples():
    assert join_lines(["could be subop-", "timal."]) == "could be suboptimal."
    assert join_lines(["Boeing Model 737–", "9 airplanes"]) == "Boeing Model 737–9 airplanes"
    assert join_lines(["see https://", "www.example.org now"]) == "see https://www.example.org now"
    assert join_lines(["soft\u00ad", "ware"]) == "software"
    vocab = document_vocabulary(["a well-known self-assessment"])
    assert join_lines(["the self-", "assessment"], vocab) == "the self-assessment"


# -- paragraph rebuilding ----------------------------------------------------------------------

paragraphs_st = st.lists(st.lists(words_st, min_size=1, max_size=30), min_size=1, max_size=6)


@given(paragraphs_st)
def test_paragraphs_separated_by_space_come_back_exactly(paragraphs):
    lines = set_column(paragraphs)
    out = rebuild_paragraphs(lines)
    assert [p.text for p in out] == [" ".join(words) for words in paragraphs]


@given(st.lists(st.lists(st.text(alphabet=LOWER, min_size=3, max_size=8), min_size=16,
                         max_size=30), min_size=1, max_size=5))
def test_paragraphs_marked_by_first_line_indent_come_back_exactly(paragraphs):
    lines = set_column(paragraphs, gap=0.0, indent=2 * SIZE)
    out = rebuild_paragraphs(lines)
    assert [p.text for p in out] == [" ".join(words) for words in paragraphs]


@given(st.lists(words_st, min_size=25, max_size=60), st.integers(min_value=1, max_value=3))
def test_a_paragraph_runs_on_into_the_next_column(words, cut):
    lines = set_column([words], width_chars=30)
    cut = min(cut, len(lines) - 1)
    moved = [Line(text=ln.text, x0=ln.x0 + 250, x1=ln.x1 + 250, top=ln.top - 200,
                  bottom=ln.bottom - 200, size=ln.size, page=ln.page, block=1)
             for ln in lines[cut:]]
    out = rebuild_paragraphs(lines[:cut] + moved)
    if cut < len(lines):
        assert [p.text for p in out] == [" ".join(words)]


@given(st.lists(st.builds(
    Line, text=line_st, x0=st.floats(0, 300), x1=st.floats(300, 600), top=st.floats(0, 800),
    bottom=st.floats(0, 800), size=st.floats(6, 20), page=st.integers(1, 3),
    block=st.integers(0, 3), bold=st.booleans()), max_size=30))
@settings(max_examples=200)
def test_rebuilding_any_lines_keeps_every_word_in_order(lines):
    out = rebuild_paragraphs(lines)
    assert len(out) <= len(lines)
    assert letters(" ".join(p.text for p in out)) == letters(" ".join(ln.text for ln in lines))
    assert all(p.text == p.text.strip() and "\n" not in p.text for p in out)


def test_bullets_start_list_items_and_tables_stay_rows():
    lines = [
        Line("We recommend that:", 50, 150, 100, 110),
        Line("• operators filter spoofed", 50, 250, 112, 122),
        Line("traffic at the edge;", 60, 200, 124, 134),
        Line("• vendors ship updates.", 50, 200, 136, 146),
        Line("Measure | Status", 50, 250, 150, 160, kind="table"),
        Line("Filtering | Agreed", 50, 250, 162, 172, kind="table"),
    ]
    out = rebuild_paragraphs(lines)
    assert [(p.kind, p.text) for p in out] == [
        ("body", "We recommend that:"),
        ("list_item", "• operators filter spoofed traffic at the edge;"),
        ("list_item", "• vendors ship updates."),
        ("table", "Measure | Status"),
        ("table", "Filtering | Agreed"),
    ]


def test_list_starts():
    for text in ("• item", "- item", "1. item", "(a) item", "iv) item", "➢ item"):
        assert is_list_start(text), text
    for text in ("In 2017 we", "A. Smith wrote", "e.g. this"):
        assert not is_list_start(text), text


# -- headers, footers, page numbers, footnotes -------------------------------------------------

@given(st.integers(min_value=2, max_value=12), st.lists(line_st, min_size=1, max_size=5))
def test_running_heads_and_page_numbers_go_and_body_text_stays(n_pages, body):
    pages, heights = [], []
    for n in range(1, n_pages + 1):
        lines = [Line(f"Contribution of Ruritania — page {n} of {n_pages}", 50, 400, 20, 30,
                      size=8, page=n)]
        lines += [Line(text, 50, 500, 200 + 12 * i, 210 + 12 * i, page=n)
                  for i, text in enumerate(body)]
        lines.append(Line(str(n), 290, 300, 770, 780, size=8, page=n))
        pages.append(lines)
        heights.append(800.0)
    out = remove_page_furniture(pages, heights)
    assert [[ln.text for ln in lines] for lines in out] == [body] * n_pages


def test_page_number_forms():
    for text in ("12", "- 3 -", "Page 3 of 9", "iv", "p. 7", "Página 2"):
        assert is_page_number(text), text
    for text in ("2017 was a year", "Chapter 3", "Section 12.3"):
        assert not is_page_number(text), text


def test_footnotes_leave_the_flow():
    lines = [Line("Body text that runs to the bottom", 50, 500, 600, 610, size=10),
             Line("1 A footnote in small type.", 50, 400, 740, 748, size=8),
             Line("Small caption above the body", 50, 300, 100, 108, size=8)]
    body, notes = split_footnotes([lines], [800.0], body_size=10.0)
    assert [ln.text for ln in notes[0]] == ["1 A footnote in small type."]
    assert len(body[0]) == 2
