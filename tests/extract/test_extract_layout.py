"""Reading order on a page (columns found from the gaps between word runs), right-to-left
lines, and the clean-up of characters that PDFs carry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.clean import clean_text
from pipeline.extract.layout import build_fragments, fix_rtl, page_lines

SIZE = 10.0
CHAR_W = 5.0


def words_of_line(text: str, x0: float, top: float, size: float = SIZE, fontname="Times") -> list[dict]:
    words, x = [], x0
    for w in text.split():
        words.append({"text": w, "x0": x, "x1": x + len(w) * CHAR_W, "top": top,
                      "bottom": top + size, "size": size, "fontname": fontname})
        x += (len(w) + 1) * CHAR_W
    return words


def column(texts: list[str], x0: float, top: float) -> list[dict]:
    out: list[dict] = []
    for i, text in enumerate(texts):
        out += words_of_line(text, x0, top + 12 * i)
    return out


# Lines of running text: a two-column line is 140-240 pt wide, a three-column one 80-150 pt.
line_text = st.lists(st.text(alphabet="abcdefghij", min_size=3, max_size=5), min_size=7,
                     max_size=8).map(" ".join)
narrow_text = st.lists(st.text(alphabet="abcdefghij", min_size=3, max_size=5), min_size=4,
                       max_size=5).map(" ".join)


@given(st.lists(line_text, min_size=4, max_size=25), st.lists(line_text, min_size=4, max_size=25))
def test_two_columns_are_read_one_after_the_other(left, right):
    words = column(left, 50, 100) + column(right, 320, 100)
    lines = page_lines(words, 1, 0, 612, 0.15)
    assert [ln.text for ln in lines] == left + right


@given(st.lists(narrow_text, min_size=4, max_size=12),
       st.lists(narrow_text, min_size=4, max_size=12),
       st.lists(narrow_text, min_size=4, max_size=12))
def test_three_columns_under_a_full_width_title(a, b, c):
    title = "a title that runs across all three columns of the page at the top"
    words = words_of_line(title, 40, 40, size=16) + column(a, 40, 100) + column(b, 225, 100) \
        + column(c, 410, 100)
    lines = page_lines(words, 1, 0, 612, 0.15)
    assert [ln.text for ln in lines] == [title] + a + b + c


def test_single_column_with_a_table_like_gap_stays_in_line_order():
    texts = ["this is a long line of ordinary running prose text here"] * 6
    words = column(texts, 50, 100) + words_of_line("label", 50, 200) + words_of_line("42", 400, 200)
    lines = page_lines(words, 1, 0, 612, 0.15)
    assert [ln.text for ln in lines][:6] == texts


def test_raised_footnote_markers_are_dropped_and_word_spaces_kept():
    words = words_of_line("good practices", 50, 100)
    words.append({"text": "69", "x0": words[-1]["x1"] + 0.2, "x1": words[-1]["x1"] + 6,
                  "top": 98, "bottom": 104, "size": 6.0, "fontname": "Times"})
    words += words_of_line("are shared", words[-1]["x1"] + 3, 100)
    frags = build_fragments(words)
    assert len(frags) == 1
    assert page_lines(words, 1, 0, 612, 0.15)[0].text == "good practices are shared"


def test_right_to_left_lines_are_put_in_logical_order():
    visual = "ةجمربلا R و Python"   # pdfminer's visual order of "Python و R البرمجة"
    assert fix_rtl(visual) == "Python و R البرمجة"
    assert fix_rtl("plain English text") == "plain English text"


def test_clean_text_handles_pdf_debris():
    assert clean_text("ef\ufb01cient (cid:12)of\ufb02ine\u00ad text\u200b") == "efficient offline text"
    assert clean_text("\uf0b7 first item") == "• first item"
    assert clean_text("  two\n\nlines\t here ") == "two lines here"
