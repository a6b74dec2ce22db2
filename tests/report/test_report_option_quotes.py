"""A paragraph's option quotes, made now or recalled from what an earlier run kept: the same
quotes, candidates and dropped-quote counts either way."""

from __future__ import annotations

import orjson

from pipeline.report.grouping import collect_candidates
from pipeline.report.option_quotes import ParagraphQuotes, make_quotes, recall_quotes
from pipeline.report.quotes import QuoteBook, verify_quote


def _through_json(kept: ParagraphQuotes) -> ParagraphQuotes:
    """As the contribution memo stores and reads it back (lists, not tuples)."""
    return ParagraphQuotes(*orjson.loads(orjson.dumps((kept.spans, kept.drops))))


def _lying_finder(finder, victim: str):
    """The real finder, except that for the paragraph containing `victim` it also reports a
    sentence the paragraph does not hold at those offsets (dropped as sentence_mismatch)."""

    def find(text: str):
        found = [{"start": s.start, "end": s.end, "sentence": s.sentence,
                  "addressees": list(s.addressees)} for s in finder(text)]
        if victim in text:
            found.append({"start": 0, "end": 12, "sentence": "Never written here",
                          "addressees": []})
        return found

    return find


def test_recalled_quotes_are_the_quotes_made(make_input, finder):
    inp = make_input()
    option = next(cp for cp in inp.paragraphs if cp.is_policy_option)
    book = QuoteBook(inp.documents)
    pairs, kept = make_quotes(option, book, _lying_finder(finder, option.text[:30]))
    assert pairs and book.dropped == {"sentence_mismatch": 1}
    assert kept.drops == [(reason, detail) for reason, detail in book.rejections]
    for quote, _ in pairs:
        assert verify_quote(quote, option.para, inp.documents[option.para.source_file])

    again = QuoteBook(inp.documents)
    assert recall_quotes(option.para, _through_json(kept), again) == pairs
    assert again.dropped == book.dropped          # the dropped span is counted again


def test_candidates_from_kept_quotes_equal_candidates_made_now(make_input, finder, caplog):
    inp = make_input()
    victim = next(cp for cp in inp.paragraphs if cp.is_policy_option and cp.challenges)
    find = _lying_finder(finder, victim.text[:30])
    first_book, made = QuoteBook(inp.documents), {}
    first = collect_candidates(inp.paragraphs, first_book, find, 30, made=made)
    assert set(made) == {cp.para.paragraph_id for cp in inp.paragraphs
                         if cp.is_policy_option and cp.challenges}

    known = {pid: _through_json(kept) for pid, kept in made.items()}
    second_book, made_again = QuoteBook(inp.documents), {}
    caplog.clear()
    second = collect_candidates(inp.paragraphs, second_book, find, 30, known=known,
                                made=made_again)
    assert made_again == {}
    assert [(c.challenge, c.quote, c.addressees, c.key, c.order, c.score, c.weight,
             c.attribution) for c in second] == \
        [(c.challenge, c.quote, c.addressees, c.key, c.order, c.score, c.weight,
          c.attribution) for c in first]
    assert all(isinstance(c.addressees, tuple) for c in second)
    assert second_book.dropped == first_book.dropped == {"sentence_mismatch": 1}
    assert "quote dropped (sentence_mismatch)" in caplog.text   # logged again, each run


def test_a_paragraph_without_kept_quotes_is_quoted_now(make_input, finder):
    """A reviewer may make a paragraph an option after the memo kept its file: its quotes are
    made in the run that needs them."""
    inp = make_input()
    made: dict[str, ParagraphQuotes] = {}
    everything = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30,
                                    made=made)
    left_out = next(iter(made))
    known = {pid: kept for pid, kept in made.items() if pid != left_out}
    made_now: dict[str, ParagraphQuotes] = {}
    again = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30,
                               known=known, made=made_now)
    assert set(made_now) == {left_out}
    assert [(c.challenge, c.quote) for c in again] == \
        [(c.challenge, c.quote) for c in everything]


def test_kept_quotes_of_the_wrong_form_are_made_again(make_input, finder):
    """A damaged memo row (valid JSON, wrong shapes) never breaks a run: those paragraphs'
    quotes are made again, with the same candidates."""
    inp = make_input()
    made: dict[str, ParagraphQuotes] = {}
    everything = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30,
                                    made=made)
    first, second, third = list(made)[:3]
    known = dict(made)
    known[first] = ParagraphQuotes([[0, "x", "q-1", []]], [])      # an offset that is text
    known[second] = ParagraphQuotes([[0, 4]], [])                    # a span without an id
    known[third] = ParagraphQuotes(made[third].spans, [["only a reason"]])
    book, made_now = QuoteBook(inp.documents), {}
    again = collect_candidates(inp.paragraphs, book, finder, 30, known=known, made=made_now)
    assert set(made_now) == {first, second, third}
    assert made_now[third] == made[third]
    assert [(c.challenge, c.quote, c.addressees) for c in again] == \
        [(c.challenge, c.quote, c.addressees) for c in everything]
    assert book.dropped_total == 0
