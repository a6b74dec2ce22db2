"""Verbatim, verified quotes.

A quote is a span of one extracted paragraph, located twice: by its offsets inside the
paragraph and, through the paragraph's own offsets (Paragraph.char_start/char_end), inside the
document text (Document.text). It is shown only when both locations hold exactly the same
characters; otherwise it is dropped, counted and logged. Nothing else makes a Quote.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from typing import Any, NamedTuple, Sequence

from pipeline.records import Document, Paragraph

log = logging.getLogger(__name__)


class Quote(NamedTuple):
    """Immutable; a tuple because 144,000 of them are made in every run at 3,000 contributions
    (a frozen dataclass's __init__ took 0.3 s of it, a tuple's 0.1 s)."""

    quote_id: str
    paragraph_id: str
    source_file: str
    contributor: str
    page: int | None
    paragraph: int
    text: str
    para_start: int   # offsets inside Paragraph.text
    para_end: int
    doc_start: int    # offsets inside Document.text
    doc_end: int


_new_quote = tuple.__new__   # a Quote from its fields in order, without NamedTuple's __new__ frame


def _quote_fields(para: Paragraph) -> tuple[str, str, str, int | None, int]:
    """A Quote's fields that come from its paragraph: id, file, contributor, page, number."""
    return para.paragraph_id, para.source_file, para.contributor, para.page, para.paragraph


def location(source_file: str, page: int | None, paragraph: int) -> str:
    """'file, p. 2, ¶ 5' — where a person finds a quote in the source."""
    if page is None:
        return f"{source_file}, ¶ {paragraph}"
    return f"{source_file}, p. {page}, ¶ {paragraph}"


def quote_id(paragraph_id: str, text: str) -> str:
    return "q-" + hashlib.sha1(f"{paragraph_id}\x1f{text}".encode("utf-8")).hexdigest()[:12]


def paragraph_matches_document(para: Paragraph, doc: Document | None) -> bool:
    """The paragraph's text is exactly Document.text at its offsets."""
    if doc is None or doc.source_file != para.source_file:
        return False
    if not (0 <= para.char_start <= para.char_end <= len(doc.text)):
        return False
    return doc.text[para.char_start:para.char_end] == para.text


def verify_quote(quote: Quote, para: Paragraph, doc: Document | None) -> bool:
    """Both locations of the quote hold exactly its text (and it is not blank)."""
    if not quote.text.strip() or quote.paragraph_id != para.paragraph_id:
        return False
    if quote.source_file != para.source_file or not paragraph_matches_document(para, doc):
        return False
    if not (0 <= quote.para_start < quote.para_end <= len(para.text)):
        return False
    if para.text[quote.para_start:quote.para_end] != quote.text:
        return False
    if quote.doc_start != para.char_start + quote.para_start or quote.doc_end != (
        para.char_start + quote.para_end
    ):
        return False
    assert doc is not None
    return doc.text[quote.doc_start:quote.doc_end] == quote.text


class QuoteBook:
    """Makes verified quotes and keeps count of the ones that failed verification."""

    def __init__(self, documents: dict[str, Document]) -> None:
        self.documents = documents
        self.dropped: Counter[str] = Counter()
        self.rejections: list[tuple[str, str]] = []   # (reason, detail) of each, in order
        self._matching: Paragraph | None = None   # the last paragraph found to match its doc

    def _drop(self, reason: str, para: Paragraph, detail: str) -> None:
        self.dropped[reason] += 1
        self.rejections.append((reason, detail))
        log.warning("quote dropped (%s): %s ¶%s %s: %s", reason, para.source_file,
                    para.paragraph, para.paragraph_id, detail)

    def drop_again(self, para: Paragraph, drops: Sequence[Sequence[str]]) -> None:
        """Count and log again the (reason, detail) of spans of para dropped in an earlier run."""
        for reason, detail in drops:
            self._drop(reason, para, detail)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def make(self, para: Paragraph, start: int, end: int, expected: str | None = None
             ) -> Quote | None:
        """A verified quote of para.text[start:end] (outer whitespace trimmed), or None.

        `expected` is the sentence as the finder reported it; when given, the source span must
        read the same (whitespace-insensitively), else the offsets are wrong and nothing is shown.
        """
        return self.make_many(para, ((start, end, expected),))[0]

    def make_many(self, para: Paragraph, spans: Sequence[tuple[int, int, str | None]]
                  ) -> list[Quote | None]:
        """make(para, start, end, expected) for each span, in order. The paragraph's checks and
        fields are read once for all its sentences (144,000 quotes of 54,000 paragraphs in every
        run at 3,000 contributions took 0.5 s one at a time). A span that fails a check goes
        through _rejected(), which says why it is dropped."""
        if not self._document_holds(para):
            return [self._rejected(para, start, end, expected) for start, end, expected in spans]
        whole, pid, base = para.text, para.paragraph_id, para.char_start
        fields = _quote_fields(para)
        out: list[Quote | None] = []
        for start, end, expected in spans:
            span = whole[start:end] if 0 <= start < end <= len(whole) else ""
            text = span.strip()
            if not text or (expected is not None and expected != text
                            and " ".join(expected.split()) != " ".join(text.split())):
                out.append(self._rejected(para, start, end, expected))
                continue
            if text is not span:   # outer whitespace trimmed
                start += len(span) - len(span.lstrip())
            end = start + len(text)
            # verify_quote(quote, para, doc) holds by construction: the paragraph is the
            # document's text at its offsets and the quote is a slice of the paragraph (the
            # tests check every quote with it; calling it here again took 0.5 s at 3,000)
            out.append(_new_quote(Quote, (quote_id(pid, text), *fields, text, start, end,
                                          base + start, base + end)))
        return out

    def make_known(self, para: Paragraph, spans: Sequence[Sequence[Any]]) -> list[Quote | None]:
        """The quotes make_many() made of para in an earlier run, from the (start, end, quote id)
        of each: the paragraph is checked against its document again, and each span against the
        paragraph's bounds; its text and id are what make_many() found then."""
        if not self._document_holds(para):
            return [self._rejected(para, start, end, None) for start, end, _ in spans]
        whole, base = para.text, para.char_start
        fields = _quote_fields(para)
        return [_new_quote(Quote, (qid, *fields, whole[start:end], start, end, base + start,
                                   base + end)) if 0 <= start < end <= len(whole)
                else self._rejected(para, start, end, None)
                for start, end, qid in spans]

    def _document_holds(self, para: Paragraph) -> bool:
        """The paragraph's document is in this run and holds its text at its offsets. A
        paragraph's sentences are quoted one after another: its text is compared with the
        document once, not once per sentence (Paragraph is frozen)."""
        if para is self._matching:
            return True
        if not paragraph_matches_document(para, self.documents.get(para.source_file)):
            return False
        self._matching = para
        return True

    def _rejected(self, para: Paragraph, start: int, end: int, expected: str | None) -> None:
        """Drop (count and log) a span make_many() cannot quote, with the reason."""
        doc = self.documents.get(para.source_file)
        if doc is None:
            return self._drop("no_document", para, "the source document is not in this run")
        if not paragraph_matches_document(para, doc):
            return self._drop("paragraph_offsets", para,
                              "the paragraph text differs from the document at its offsets")
        if not (0 <= start < end <= len(para.text)):
            return self._drop("sentence_offsets", para,
                              f"offsets {start}-{end} outside the paragraph")
        text = para.text[start:end].strip()
        if not text:
            return self._drop("empty", para, "blank sentence")
        assert expected is not None
        return self._drop("sentence_mismatch", para,
                          f"finder said {expected[:60]!r} but the source reads {text[:60]!r}")
