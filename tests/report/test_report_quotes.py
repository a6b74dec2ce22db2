"""Quotes are verbatim spans of the extracted source, verified twice, or not shown at all."""

from __future__ import annotations

import dataclasses
import html as htmllib
import re

from hypothesis import given, settings as hsettings, strategies as st

from pipeline.report.build import build_report
from pipeline.report.grouping import collect_candidates, group_options
from pipeline.report.quotes import QuoteBook, verify_quote


def _all_quotes(grouping):
    return [m.quote for g in grouping.groups for m in g.members]


def test_every_quote_is_verbatim_at_its_offsets(make_input, finder, encode_tfidf):
    inp = make_input()
    book = QuoteBook(inp.documents)
    cands = collect_candidates(inp.paragraphs, book, finder, 30)
    grouping = group_options(cands, encode_tfidf, 0.25)
    quotes = _all_quotes(grouping)
    assert len(quotes) >= 12
    paras = {cp.para.paragraph_id: cp.para for cp in inp.paragraphs}
    for q in quotes:
        doc = inp.documents[q.source_file]
        para = paras[q.paragraph_id]
        assert doc.text[q.doc_start:q.doc_end] == q.text
        assert para.text[q.para_start:q.para_end] == q.text
        assert verify_quote(q, para, doc)
        # attribution carried by the quote is the paragraph's
        assert (q.contributor, q.page, q.paragraph) == (para.contributor, para.page,
                                                       para.paragraph)
    assert book.dropped_total == 0


def test_quote_of_a_paragraph_that_differs_from_its_document_is_dropped(make_input, finder,
                                                                         encode_tfidf, caplog):
    inp = make_input()
    # The extract stage's offsets are wrong for one paragraph: its text no longer matches
    # Document.text at [char_start, char_end). Its quotes must not appear anywhere.
    victim = next(cp for cp in inp.paragraphs if cp.para.source_file == "northcert.pdf"
                  and cp.is_policy_option)
    bad = dataclasses.replace(victim.para, char_start=victim.para.char_start + 3,
                              char_end=victim.para.char_end + 3)
    victim.para = bad
    book = QuoteBook(inp.documents)
    cands = collect_candidates(inp.paragraphs, book, finder, 30)
    grouping = group_options(cands, encode_tfidf, 0.25)
    assert book.dropped["paragraph_offsets"] >= 1
    assert all(q.paragraph_id != bad.paragraph_id for q in _all_quotes(grouping))
    assert "quote dropped" in caplog.text


def test_finder_sentence_that_does_not_match_the_source_is_dropped(make_input):
    inp = make_input()
    cp = next(cp for cp in inp.paragraphs if cp.is_policy_option)
    book = QuoteBook(inp.documents)
    # offsets say one thing, the reported sentence another: nothing is shown
    assert book.make(cp.para, 0, 20, expected="Something the contributor never wrote") is None
    assert book.make(cp.para, 5, 10_000) is None
    assert book.make(cp.para, 7, 7) is None
    assert book.dropped_total == 3
    good = book.make(cp.para, 0, len(cp.para.text), expected=cp.para.text)
    assert good is not None and good.text == cp.para.text.strip()


@hsettings(max_examples=200, deadline=None)
@given(start=st.integers(-5, 400), length=st.integers(-5, 400), which=st.integers(0, 24))
def test_no_quote_can_exist_that_is_not_in_the_source(start, length, which):
    """Whatever offsets a finder reports, a quote that exists reads exactly as the source."""
    from pipeline.report.model import build_input
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "contributions.json").read_text())
    inp = build_input(data["contributions"])
    cp = inp.paragraphs[which % len(inp.paragraphs)]
    book = QuoteBook(inp.documents)
    q = book.make(cp.para, start, start + length)
    if q is not None:
        doc = inp.documents[cp.para.source_file]
        assert q.text and q.text in doc.text
        assert doc.text[q.doc_start:q.doc_end] == q.text
        assert q.text == q.text.strip()


def test_html_shows_only_verified_source_text(tmp_path, make_input, finder, encode_tfidf,
                                              settings_for):
    inp = make_input()
    result = build_report(inp, encode_tfidf, settings_for(), tmp_path, find_sentences=finder)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    shown = [htmllib.unescape(t) for t in re.findall(r"<q>(.*?)</q>", page, flags=re.S)]
    shown += [htmllib.unescape(t)[1:-1] for t in
              re.findall(r"<blockquote[^>]*>(.*?)</blockquote>", page, flags=re.S)]
    assert len(shown) == result.counts["quotes"]
    texts = [d.text for d in inp.documents.values()]
    for s in shown:
        assert any(s in t for t in texts), s
    # every quote links to its source paragraph, and that anchor exists
    for anchor in set(re.findall(r'href="#(src-p-[0-9a-f]+)"', page)):
        assert f'id="{anchor}"' in page
