"""A paragraph's option quotes: the verified quotes grouping makes its candidates of.

Each policy-option paragraph's option sentences (those the classifier found, else those the
sentence finder finds now) become verified quotes (report.quotes), in the order of their
offsets, each span once. They depend only on the paragraph, its document and the model's
prediction, not on reviewers' labels or report settings, so `cenb run` keeps them with the rest
of each file in the contribution memo, as ParagraphQuotes: at 3,000 contributions, reading the
sentences and making 144,000 quotes again took about 0.5 s of every run.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, NamedTuple, Sequence

from pipeline.records import Paragraph
from pipeline.report.model import ClassifiedParagraph
from pipeline.report.quotes import Quote, QuoteBook

SentenceFinder = Callable[[str], Sequence[Any]]
QuotePairs = list[tuple[Quote, tuple[str, ...]]]   # each quote and the addressees it names


class ParagraphQuotes(NamedTuple):
    """What make_quotes() made of one paragraph, as plain data."""

    spans: list[tuple[int, int, str, tuple[str, ...]]]  # start, end, quote id, addressees
    drops: list[tuple[str, str]]                        # reason, detail of each span dropped


def default_sentence_finder() -> SentenceFinder:
    from pipeline.classify.policy_option import find_option_sentences

    return find_option_sentences


def option_sentences_of(cp: ClassifiedParagraph, find_sentences: SentenceFinder) -> list[Any]:
    """The paragraph's option sentences: those the classifier already found (Prediction.extra
    "option_sentences"), else what the sentence finder finds in its text now."""
    known = cp.prediction.extra.get("option_sentences") if cp.prediction.extra else None
    if known:
        return list(known)
    return list(find_sentences(cp.text) or [])


def _span(s: Any) -> tuple[int, int, str | None, tuple[str, ...]]:
    """(start, end, sentence as the finder read it, addressees) of one option sentence: a dict
    as the classifier stores it, or an object with those attributes."""
    if isinstance(s, dict):
        sentence = s.get("sentence")
        if sentence is None:
            sentence = s.get("text")
        return int(s["start"]), int(s["end"]), sentence, tuple(map(str, s.get("addressees") or ()))
    sentence = getattr(s, "sentence", None)
    if sentence is None:
        sentence = getattr(s, "text", None)
    return (int(getattr(s, "start")), int(getattr(s, "end")), sentence,
            tuple(map(str, getattr(s, "addressees", None) or ())))


_START_END = itemgetter(0, 1)


def make_quotes(cp: ClassifiedParagraph, book: QuoteBook,
                find_sentences: SentenceFinder) -> tuple[QuotePairs, ParagraphQuotes]:
    """The paragraph's quotes with their addressees, in order of their offsets (a paragraph
    without option sentences is quoted whole), and the same as ParagraphQuotes to keep."""
    spans = [_span(s) for s in option_sentences_of(cp, find_sentences)]
    if not spans:
        spans.append((0, len(cp.text), None, ()))
    spans.sort(key=_START_END)
    dropped_before = len(book.rejections)
    pairs: QuotePairs = []
    seen: set[tuple[int, int]] = set()
    for quote, (_, _, _, addressees) in zip(
            book.make_many(cp.para, [span[:3] for span in spans]), spans):
        if quote is None:
            continue
        where = (quote.para_start, quote.para_end)
        if where not in seen:
            seen.add(where)
            pairs.append((quote, addressees))
    kept = ParagraphQuotes([(q.para_start, q.para_end, q.quote_id, a) for q, a in pairs],
                           book.rejections[dropped_before:])
    return pairs, kept


def recall_quotes(para: Paragraph, kept: ParagraphQuotes, book: QuoteBook) -> QuotePairs | None:
    """The quotes make_quotes() made of the paragraph in an earlier run, made again from what it
    kept, and the spans it dropped counted and logged again; None when what was kept is not of
    that form (a damaged cache row: the caller makes the quotes again)."""
    try:
        quotes = book.make_known(para, [(int(start), int(end), str(qid))
                                        for start, end, qid, _ in kept.spans])
        pairs = [(quote, tuple(map(str, span[3]))) for quote, span in zip(quotes, kept.spans)
                 if quote is not None]
        drops = [(str(reason), str(detail)) for reason, detail in kept.drops]
    except (TypeError, ValueError):
        return None
    book.drop_again(para, drops)
    return pairs
