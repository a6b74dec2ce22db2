"""Split over-long paragraphs at sentence boundaries with spaCy.

Only paragraphs longer than extract.max_paragraph_chars reach spaCy, so the model loads only
when a batch has one. English text goes through the project's parser-based pipeline
(pipeline.nlp.load_nlp, parser only); other languages through the rule-based sentencizer.
Sentences are packed greedily into pieces of at most `max_chars`; a single sentence longer than
that is cut at the last space before the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

# spaCy refuses texts over nlp.max_length (1,000,000); stay far below and keep memory small.
_SPACY_CHUNK = 100_000


def _sentences(text: str, language: str | None) -> list[str]:
    from pipeline.nlp import load_nlp, load_sentencizer

    if language in (None, "en"):
        nlp = load_nlp()
        wanted = [p for p in ("tok2vec", "parser") if p in nlp.pipe_names]
        with nlp.select_pipes(enable=wanted):
            return [s.text for chunk in _hard_chunks(text, _SPACY_CHUNK)
                    for s in nlp(chunk).sents if s.text.strip()]
    nlp = load_sentencizer()
    return [s.text for chunk in _hard_chunks(text, _SPACY_CHUNK)
            for s in nlp(chunk).sents if s.text.strip()]


def _hard_chunks(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at the last space before the limit
    where there is one."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def pack(sentences: Sequence[str], max_chars: int) -> list[str]:
    """Greedily join consecutive sentences (with one space) into pieces of <= max_chars."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        for part in _hard_chunks(" ".join(sentence.split()), max_chars):
            if not current:
                current = part
            elif len(current) + 1 + len(part) <= max_chars:
                current = f"{current} {part}"
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def split_long(text: str, max_chars: int, language: str | None = None) -> list[str]:
    """`text` itself when short enough, else its sentence-packed pieces (each <= max_chars)."""
    if len(text) <= max_chars:
        return [text]
    return pack(_sentences(text, language), max_chars)
