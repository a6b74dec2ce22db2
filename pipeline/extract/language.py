"""Language of a paragraph and of a document, with langdetect (seeded, so runs agree).

langdetect costs 2-3 ms a call, which adds up to tens of seconds on a long handbook, so two cheap
tests come first: the script (Chinese, Japanese and Korean, which langdetect also confuses on
short text), and, for the common European languages, a clear majority of function words
("the/and/of", "le/les/des"...). Only text that neither settles goes to langdetect.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in {
        "en": "the and of to is that for with are this be should which have from by not it as "
              "or their on will can has been these would they its we our",
        "fr": "le les des et est une pour dans qui sont pas sur au aux ce cette avec nous du il "
              "ou par être leur ses ces",
        "es": "el los las del y es una para por con que se su sus como más son está al lo "
              "también entre este esta",
        "de": "der die das und ist nicht mit den von zu ein eine auch sich für dem werden auf "
              "sind wird",
        "pt": "os as do da dos das e não uma para com que são em ao pelo pela mais também seu "
              "sua",
        "it": "il gli della che di e è per una con non sono del nel anche alla come più",
        "nl": "het een van is niet met voor zijn op dat die te ook wordt aan bij",
    }.items()
}
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

# Below this many letters function words decide or nothing does; below LANGDETECT_MIN_LETTERS
# langdetect guesses (and is slow doing so): such paragraphs get no language.
MIN_LETTERS = 20
LANGDETECT_MIN_LETTERS = 40
# langdetect's cost grows with the text; the first characters decide the language well enough.
SAMPLE_CHARS = 300

_factory_ready = False


def _detect_langs(text: str):
    global _factory_ready
    from langdetect import DetectorFactory, detector_factory

    if not _factory_ready:
        DetectorFactory.seed = 0
        detector_factory.init_factory()
        _factory_ready = True
    detector = detector_factory._factory.create()
    # 3 random trials instead of 7: the answer is the same on prose, and text that does not
    # converge (titles, lists of names) costs a third as much.
    detector.n_trial = 3
    detector.append(text)
    return detector.get_probabilities()


def _cjk(sample: str, letters: int) -> str | None:
    """Chinese, Japanese and Korean told apart by their scripts (langdetect confuses short
    Chinese with Korean)."""
    han = sum("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in sample)
    kana = sum("\u3040" <= ch <= "\u30ff" for ch in sample)
    hangul = sum("\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" for ch in sample)
    if han + kana + hangul < 0.5 * letters:
        return None
    if hangul > 0.3 * (han + kana + hangul):
        return "ko"
    if kana > 0.05 * (han + kana + hangul):
        return "ja"
    return "zh"


def _by_function_words(sample: str) -> str | None:
    words = _WORD_RE.findall(sample.lower())
    if len(words) < 5:
        return None
    counts = sorted(((sum(w in stop for w in words), lang) for lang, stop in _STOPWORDS.items()),
                    reverse=True)
    (best, lang), (second, _) = counts[0], counts[1]
    if best >= 2 and best >= 2 * second + 1 and best >= 0.08 * len(words):
        return lang
    return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ('en', 'fr', 'zh'...), or None for very short or undecidable text."""
    sample = text[:SAMPLE_CHARS]
    letters = sum(ch.isalpha() for ch in sample)
    cjk = _cjk(sample, letters) if letters else None
    if cjk is not None and letters >= 4:
        return cjk
    if letters < MIN_LETTERS:
        return None
    by_words = _by_function_words(sample)
    if by_words is not None:
        return by_words
    if letters < LANGDETECT_MIN_LETTERS:
        return None
    from langdetect.lang_detect_exception import LangDetectException

    try:
        ranked = _detect_langs(sample.lower())  # capitals mislead it ('de' for English titles)
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
