"""Language of a paragraph and of a document, with langdetect (seeded, so runs agree)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# Below this many letters langdetect guesses: such paragraphs get no language.
MIN_LETTERS = 20
# langdetect's cost grows with the text; the first characters decide the language well enough.
SAMPLE_CHARS = 600

_factory_ready = False


def _detect_langs(text: str):
    global _factory_ready
    from langdetect import DetectorFactory, detect_langs

    if not _factory_ready:
        DetectorFactory.seed = 0
        _factory_ready = True
    return detect_langs(text)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ('en', 'fr', 'zh'...), or None for very short or undecidable text."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    from langdetect.lang_detect_exception import LangDetectException

    try:
        ranked = _detect_langs(sample)
    except LangDetectException:
        return None
    if not ranked or ranked[0].prob < 0.5:
        return None
    return ranked[0].lang.split("-")[0].lower()


def document_language(texts_and_languages: Iterable[tuple[str, str | None]]) -> str | None:
    """The language that most of the document's characters are in."""
    weight: Counter[str] = Counter()
    for text, lang in texts_and_languages:
        if lang:
            weight[lang] += len(text)
    return weight.most_common(1)[0][0] if weight else None
