"""Character-level clean-up shared by every extractor: one job, no layout knowledge."""

from __future__ import annotations

import re
import unicodedata

# Typographic ligatures (U+FB00..U+FB06) become their letters. NFKC is applied to these
# characters only: NFKC on whole texts would also rewrite superscripts, full-width CJK
# punctuation, fractions and the like.
_LIGATURES = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)}
_LIGATURE_RE = re.compile("[" + "".join(_LIGATURES) + "]")

# pdfminer writes a glyph it cannot map to Unicode as "(cid:123)".
_CID_RE = re.compile(r"\(cid:\d+\)")

# Invisible characters that only get in the way of matching and classification.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe\ufffc]")
# C0/C1 controls other than tab/newline (pdfminer and old Word files emit some).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE_RE = re.compile(r"\s+")
# Bullets that Word draws with the Symbol/Wingdings fonts arrive as private-use characters.
_PUA_BULLETS = {"\uf0b7": "•", "\uf0a7": "▪", "\uf076": "•", "\uf0d8": "➢", "\uf0fc": "✓",
                "\uf0a8": "•", "\uf0e8": "➢", "\uf06c": "•", "\uf06e": "▪", "\uf075": "•"}
_PUA_BULLET_RE = re.compile("[" + "".join(_PUA_BULLETS) + "]")


def expand_ligatures(text: str) -> str:
    return _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group(0)], text)


def remove_cid(text: str) -> str:
    return _CID_RE.sub("", text)


def normalise_bullets(text: str) -> str:
    return _PUA_BULLET_RE.sub(lambda m: _PUA_BULLETS[m.group(0)], text)


def clean_text(text: str) -> str:
    """Ligatures expanded, symbol-font bullets made '•', unmapped glyphs and invisible/control
    characters dropped, every run of whitespace (newlines included) made one space, ends
    stripped."""
    text = normalise_bullets(remove_cid(text))
    text = expand_ligatures(text)
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def has_letters(text: str) -> bool:
    """True when the text holds at least one letter or CJK ideograph (not only numbers/symbols)."""
    return any(ch.isalpha() for ch in text)
