"""Pure functions that turn positioned text lines (from a PDF page) into paragraphs.

No I/O and no pdfplumber here: the PDF extractor builds `Line`s in reading order, and these
functions decide where paragraphs start and end, join hyphenated line breaks and drop running
headers, footers and page numbers. They are tested with hypothesis (tests/extract/).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# A line that ends a sentence (or introduces a list) may end a paragraph.
_SENTENCE_END_RE = re.compile(r"[.!?:;…。！？][\"'”’»)\]]*$")
# The start of a list item: a bullet glyph, or "1." / "1)" / "(a)" / "iv." followed by a space.
_BULLET_RE = re.compile(
    r"^(?:[•●○◦▪▫■□‣⁃∙·➢➤►▶✓✔\-–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\([A-Z]\)|\(?[ivx]{1,5}[.)])\s+\S"
)
# A hyphen that may have been inserted to break a word at the end of a line.
_LINE_END_HYPHENS = ("-", "\u2010", "\u00ad")
_WORD_TAIL_RE = re.compile(r"(\w+)$")
_WORD_HEAD_RE = re.compile(r"^(\w+)")
# Running heads and page furniture: "12", "- 12 -", "Page 3 of 9", "iv", "3/9".
_PAGE_NUMBER_RE = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:page|p\.|pág\.?|página|seite)\s*)?(?:\d{1,4}|[ivxlcdm]{1,6})"
    r"(?:\s*(?:of|/|de|sur|von)\s*\d{1,4})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
_DIGITS_RE = re.compile(r"\d+")


@dataclass(frozen=True)
class Line:
    """One line of text in reading order. Coordinates in PDF points, top-down (pdfplumber's)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 10.0          # the line's dominant font size
    page: int = 1
    block: int = 0              # lines of one column/region share a block number on a page
    bold: bool = False          # every word of the line is in a bold face
    kind: str = "text"          # "table": one row of a ruled table, cells joined by " | "


@dataclass
class Para:
    text: str
    page: int
    kind: str = "body"          # body | list_item
    size: float = 10.0
    bold: bool = False
    n_lines: int = 1
    top: float = 0.0
    line_texts: list[str] = field(default_factory=list)


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END_RE.search(text.rstrip()))


def is_list_start(text: str) -> bool:
    return bool(_BULLET_RE.match(text.lstrip()))


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER_RE.match(text.strip()))


def join_lines(texts: Sequence[str], vocabulary: set[str] | None = None) -> str:
    """Join the lines of one paragraph, undoing hyphenation at line ends.

    "subop-" + "timal" -> "suboptimal"; "COVID-" + "19" -> "COVID-19" (the next line does not
    start with a lower-case letter, so the hyphen is real); with a `vocabulary` (lower-cased
    words seen elsewhere in the document) "self-" + "assessment" keeps its hyphen when
    "self-assessment" occurs in the document and "selfassessment" does not.
    """
    out = ""
    for raw in texts:
        line = " ".join(raw.split())
        if not line:
            continue
        if not out:
            out = line
            continue
        if out.endswith("\u00ad"):  # a soft hyphen only ever marks a break
            out = out[:-1] + line
        elif out.endswith(_LINE_END_HYPHENS) and len(out) >= 2 and out[-2].isalpha():
            if line[0].islower():
                tail = _WORD_TAIL_RE.search(out[:-1])
                head = _WORD_HEAD_RE.match(line)
                keep = False
                if vocabulary is not None and tail and head:
                    hyphenated = f"{tail.group(1)}-{head.group(1)}".lower()
                    closed = f"{tail.group(1)}{head.group(1)}".lower()
                    keep = hyphenated in vocabulary and closed not in vocabulary
                out = (out if keep else out[:-1]) + line
            else:
                out = out + line  # a real hyphen before a capital or digit: "COVID-19"
        elif out.endswith(("—", "–")) and len(out) >= 2 and not out[-2].isspace():
            out = out + line  # "737–" + "9": a dash inside a compound or a number range
        elif out.endswith(("/", "@")) and ("/" in out.rsplit(" ", 1)[-1][:-1] or "@" in out[-1:]):
            out = out + line  # a URL or e-mail address broken at a line end
        else:
            out = out + " " + line
    return out


def document_vocabulary(texts: Iterable[str]) -> set[str]:
    """Lower-cased words and hyphenated compounds that occur inside lines (not at their ends)."""
    vocab: set[str] = set()
    for text in texts:
        for word in re.findall(r"\w+(?:-\w+)*", text.lower()):
            vocab.add(word)
            if "-" in word:
                vocab.update(word.split("-"))
    return vocab


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _median(values: Sequence[float], default: float) -> float:
    return statistics.median(values) if values else default


def rebuild_paragraphs(lines: Sequence[Line], vocabulary: set[str] | None = None) -> list[Para]:
    """Group lines (in reading order) into paragraphs.

    A new paragraph starts at a list bullet, after a vertical gap clearly larger than the
    block's usual line pitch, at a first-line indent, at a change of font size or from a bold
    line to a regular one, and after a short line that ends a sentence. A paragraph carries on
    into the next column or page when its last line does not end a sentence and the next line
    starts in lower case.
    """
    if not lines:
        return []
    # Per block (one column of one page): left/right edges and the usual line pitch. The pitch
    # is a low quantile of the gaps between consecutive lines (paragraph gaps are the larger
    # ones); a block with few lines borrows the document's pitch-to-size ratio.
    groups: dict[tuple[int, int], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.page, line.block), []).append(line)
    block_pitches: dict[tuple[int, int], list[float]] = {}
    ratios: list[float] = []
    for key, members in groups.items():
        pitches = [
            b.top - a.top
            for a, b in zip(members, members[1:])
            if 0 < b.top - a.top < 4 * max(a.size, b.size)
        ]
        block_pitches[key] = pitches
        ratios.extend(p / max(m.size, 1.0) for p, m in zip(pitches, members))
    doc_ratio = _quantile(ratios, 0.25) if len(ratios) >= 8 else 1.2
    geometry: dict[tuple[int, int], tuple[float, float, float]] = {}
    for key, members in groups.items():
        left = min(m.x0 for m in members)
        right = max(m.x1 for m in members)
        size = _median([m.size for m in members], 10.0)
        pitches = block_pitches[key]
        pitch = doc_ratio * size
        if len(pitches) >= 4:
            pitch = min(_quantile(pitches, 0.25), 1.15 * pitch)
        geometry[key] = (left, right, pitch)

    paras: list[Para] = []
    current: list[Line] = []
    current_kind = "body"

    def flush() -> None:
        nonlocal current, current_kind
        if current:
            texts = [ln.text for ln in current]
            text = join_lines(texts, vocabulary)
            if text.strip():
                paras.append(Para(
                    text=text.strip(),
                    page=current[0].page,
                    kind=current_kind,
                    size=_median([ln.size for ln in current], 10.0),
                    bold=all(ln.bold for ln in current),
                    n_lines=len(current),
                    top=current[0].top,
                    line_texts=texts,
                ))
        current = []
        current_kind = "body"

    for line in lines:
        if not line.text.strip():
            continue
        if line.kind == "table":
            flush()
            current, current_kind = [line], "table"
            flush()
            continue
        if not current:
            current = [line]
            current_kind = "list_item" if is_list_start(line.text) else "body"
            continue
        prev = current[-1]
        left, right, pitch = geometry[(line.page, line.block)]
        width = max(right - left, 1.0)
        starts_list = is_list_start(line.text)
        new_region = (line.page, line.block) != (prev.page, prev.block)
        if new_region:
            continues = (
                not ends_sentence(prev.text)
                and line.text.lstrip()[:1].islower()
                and abs(line.size - prev.size) <= 0.15 * max(prev.size, 1.0)
            )
            brk = not continues
        else:
            gap = line.top - prev.top
            size_change = abs(line.size - prev.size) > 0.15 * max(prev.size, line.size, 1.0)
            big_gap = gap > 1.45 * pitch + 0.5 or gap < -0.5 * line.size
            indent = (
                current_kind != "list_item"
                and line.x0 - left > 0.9 * line.size
                and prev.x0 - left < 0.5 * line.size
                and line.x0 < left + 0.5 * width
            )
            # the last line of a paragraph: short and ending a sentence, or very short (a
            # title-page line, an address, a list introduced without punctuation)
            # back at the bullet's margin after a finished sentence: the list is over
            list_end = (current_kind == "list_item" and len(current) >= 1
                        and line.x0 <= current[0].x0 + 0.3 * line.size
                        and ends_sentence(prev.text))
            short_end = list_end or (ends_sentence(prev.text) and prev.x1 < right - 0.25 * width) or (
                prev.x1 - left < 0.6 * width and prev.x0 - left < 0.5 * width
                and width > 20 * line.size and not line.text.lstrip()[:1].islower())
            bold_end = prev.bold and not line.bold
            brk = starts_list or size_change or big_gap or indent or short_end or bold_end
        if brk:
            flush()
            current = [line]
            current_kind = "list_item" if starts_list else "body"
        else:
            current.append(line)
    flush()
    return paras


def split_footnotes(
    pages: Sequence[Sequence[Line]], page_heights: Sequence[float], body_size: float,
) -> tuple[list[list[Line]], list[list[Line]]]:
    """Separate footnote lines from the running text, page by page.

    A footnote line is set smaller than the body text, lies in the lower 45% of its page, and
    has no body-size line below it in its column; taking footnotes out of the flow lets a
    paragraph that runs on to the next page continue there.
    """
    body_pages: list[list[Line]] = []
    note_pages: list[list[Line]] = []
    for lines, height in zip(pages, page_heights):
        lowest_body: dict[int, float] = {}
        for ln in lines:
            if ln.kind == "text" and ln.size >= 0.93 * body_size:
                lowest_body[ln.block] = max(lowest_body.get(ln.block, 0.0), ln.top)
        body, notes = [], []
        for ln in lines:
            small = ln.kind == "text" and ln.size < 0.93 * body_size
            if small and ln.top > 0.55 * height and ln.top > lowest_body.get(ln.block, 0.0):
                notes.append(ln)
            else:
                body.append(ln)
        body_pages.append(body)
        note_pages.append(notes)
    return body_pages, note_pages


def _furniture_key(text: str) -> str:
    """Normalise a margin line so that "Page 3 of 9" and "Page 4 of 9" compare equal."""
    return _DIGITS_RE.sub("#", " ".join(text.lower().split()))


def body_font_size(lines: Iterable[Line]) -> float:
    """The font size most of the text is set in (weighted by characters)."""
    weights: Counter[float] = Counter()
    for ln in lines:
        if ln.kind == "text":
            weights[round(ln.size, 1)] += len(ln.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def remove_page_furniture(
    pages: Sequence[Sequence[Line]],
    page_heights: Sequence[float],
    margin: float = 0.12,
    min_repeats: int = 2,
    edge: float = 0.065,
) -> list[list[Line]]:
    """Drop running headers/footers and bare page numbers.

    A line counts as furniture when it lies in the top or bottom `margin` of its page and
    either is a bare page number, or its text (digits ignored) recurs in the margins of at
    least 30% of the pages (running heads alternate on odd and even pages) and at least
    `min_repeats` of them; or when it lies in the outermost `edge` of the page in type smaller
    than the body text (a footer such as "Public 2" on a document whose first page has none).
    """
    n_pages = len(pages)
    body = body_font_size(ln for lines in pages for ln in lines)

    def at_edge(line: Line, height: float) -> bool:
        return (line.bottom <= edge * height or line.top >= (1 - edge) * height) \
            and line.size < 0.95 * body and line.kind == "text"

    def in_margin(line: Line, height: float) -> bool:
        return line.bottom <= margin * height or line.top >= (1 - margin) * height

    counts: Counter[str] = Counter()
    for lines, height in zip(pages, page_heights):
        keys = {_furniture_key(ln.text) for ln in lines if in_margin(ln, height)}
        counts.update(keys)
    threshold = max(min_repeats, math.ceil(0.3 * n_pages))
    repeated = {k for k, c in counts.items() if c >= threshold and n_pages >= min_repeats}

    out: list[list[Line]] = []
    for lines, height in zip(pages, page_heights):
        kept = []
        for ln in lines:
            if in_margin(ln, height) and (
                is_page_number(ln.text) or _furniture_key(ln.text) in repeated
            ):
                continue
            if at_edge(ln, height):
                continue
            kept.append(ln)
        out.append(kept)
    return out
