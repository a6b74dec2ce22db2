"""Reading order on a PDF page: words -> line fragments -> columns -> `Line`s in order.

Pure functions over pdfplumber word dicts (text, x0, x1, top, bottom, size, fontname).
pdfplumber's own text extraction reads straight across a page, so on two- and three-column
pages it interleaves the columns line by line. Here words are first grouped into horizontal
fragments (split at gaps wider than about one em, which is where column gutters are), then the
page is cut at vertical gutters that no (or almost no) fragment crosses, recursively, and each
column is read top to bottom before the next. Fragments that cross a gutter (a title over both
columns, a full-width figure caption) split the page into sections read in turn.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.extract.paragraphs import Line

_BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi|medi\b|-medi|[-,]bd", re.IGNORECASE)
_MARKER_RE = re.compile(r"^[\d*∗†‡§¶,\-–]{1,5}$")


@dataclass
class Fragment:
    words: list[dict]
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    rows: list[str] | None = None   # a ruled table found by pdfplumber: its rows, in order

    @property
    def width(self) -> float:
        return self.x1 - self.x0


def is_bold(fontname: str) -> bool:
    return bool(_BOLD_RE.search(fontname or ""))


def _make_fragment(words: list[dict]) -> Fragment:
    # The fragment's size is that of its largest proper word: small capitals and raised
    # markers are smaller than the text they sit in.
    sized = [w.get("size", 10.0) for w in words if len(w["text"]) >= 2] or [
        w.get("size", 10.0) for w in words]
    return Fragment(
        words=words,
        x0=min(w["x0"] for w in words),
        x1=max(w["x1"] for w in words),
        top=min(w["top"] for w in words),
        bottom=max(w["bottom"] for w in words),
        size=max(sized),
    )


def _raised_on(small: dict, big: dict) -> bool:
    """`small` is a short, smaller word (a superscript marker) overlapping `big` over half its
    own height. Smaller running text (a footnote beside a column of body text) is not."""
    if small.get("size", 10.0) >= 0.8 * big.get("size", 10.0) or len(small["text"]) > 4:
        return False
    overlap = min(small["bottom"], big["bottom"]) - max(small["top"], big["top"])
    return overlap >= 0.5 * (small["bottom"] - small["top"])


def build_fragments(words: Sequence[dict], gap_em: float = 1.0) -> list[Fragment]:
    """Group words into same-line runs, split wherever the horizontal gap exceeds `gap_em`
    times the font size (a column gutter or a table cell boundary)."""
    if not words:
        return []
    # Rows: a word joins the current row when its baseline is within a tolerance of the row's
    # anchor word, or when one of the two is a smaller raised word (a footnote marker) lying on
    # the other. The anchor stays fixed, so rows never chain through a neighbouring column
    # whose lines sit at other heights.
    sizes = sorted(w.get("size", 10.0) for w in words)
    tol = 0.45 * sizes[len(sizes) // 2]
    ordered = sorted(words, key=lambda w: (w["bottom"], w["x0"]))
    rows: list[list[dict]] = []
    anchor: dict | None = None
    for w in ordered:
        if anchor is not None:
            if abs(w["bottom"] - anchor["bottom"]) <= tol or _raised_on(w, anchor):
                rows[-1].append(w)
                continue
            if _raised_on(anchor, w):
                rows[-1].append(w)
                anchor = w
                continue
        rows.append([w])
        anchor = w
    fragments: list[Fragment] = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        run = [row[0]]
        for w in row[1:]:
            prev = run[-1]
            em = max(prev.get("size", 10.0), w.get("size", 10.0))
            if w["x0"] - prev["x1"] > gap_em * em:
                fragments.append(_make_fragment(run))
                run = [w]
            else:
                run.append(w)
        fragments.append(_make_fragment(run))
    return fragments


def _find_gutter(frags: Sequence[Fragment], page_x0: float, page_x1: float) -> tuple[float, float] | None:
    """The widest vertical band that at most a few fragments cross and that has column-like
    text on both sides (several lines each, overlapping vertically, not narrow table cells)."""
    if len(frags) < 6:
        return None
    lo = min(f.x0 for f in frags)
    hi = max(f.x1 for f in frags)
    if hi - lo < 100:
        return None
    step = 1.0
    n = int((hi - lo) / step) + 2
    diff = [0] * (n + 1)
    for f in frags:  # coverage by a difference array: O(fragments + width)
        a = max(int((f.x0 - lo) / step) + 1, 0)
        b = min(int((f.x1 - lo) / step), n)
        if a < b:
            diff[a] += 1
            diff[b] -= 1
    cover = []
    running = 0
    for i in range(n):
        running += diff[i]
        cover.append(running)
    allowed = max(1, len(frags) // 5)
    median_size = statistics.median(f.size for f in frags)
    min_width = 0.8 * median_size
    best: tuple[float, float, float] | None = None
    i = 0
    while i < n:
        if cover[i] <= allowed:
            j = i
            while j < n and cover[j] <= allowed:
                j += 1
            # The gutter proper is the least-covered part of the band: a column's long lines
            # may poke into the band's edges without crossing it.
            low = min(cover[i:j])
            k, core = i, (i, i)
            while k < j:
                if cover[k] == low:
                    m = k
                    while m < j and cover[m] == low:
                        m += 1
                    if m - k > core[1] - core[0]:
                        core = (k, m)
                    k = m
                else:
                    k += 1
            g0, g1 = lo + core[0] * step, lo + core[1] * step
            if (j - i) * step >= min_width and g0 > lo + 20 and g1 < hi - 20:
                score = _gutter_score(frags, g0, g1, page_x1 - page_x0)
                if score is not None and (best is None or score > best[2]):
                    best = (g0, g1, score)
            i = j
        else:
            i += 1
    return (best[0], best[1]) if best else None


def _gutter_score(frags: Sequence[Fragment], g0: float, g1: float, page_width: float) -> float | None:
    left = [f for f in frags if f.x1 <= g0 + 1]
    right = [f for f in frags if f.x0 >= g1 - 1]
    if len(left) < 3 or len(right) < 3:
        return None
    # Both sides must look like running text, not a column of numbers or short table cells.
    min_col = 0.12 * page_width
    lw = statistics.median(f.width for f in left)
    rw = statistics.median(f.width for f in right)
    if lw < min_col or rw < min_col:
        return None
    # The two sides must sit beside each other (overlap vertically) over several lines...
    top = max(min(f.top for f in left), min(f.top for f in right))
    bottom = min(max(f.bottom for f in left), max(f.bottom for f in right))
    if bottom - top < 3 * statistics.median(f.size for f in frags):
        return None
    # ...and, where they do, hardly anything may cross the gutter (a title above the
    # columns or a footer below them may).
    crossing = [f for f in frags if f.x1 > g0 + 1 and f.x0 < g1 - 1
                and top < (f.top + f.bottom) / 2 < bottom]
    beside = [f for f in left + right if top <= (f.top + f.bottom) / 2 <= bottom]
    if len(crossing) > max(1, 0.1 * len(beside)):
        return None
    return (g1 - g0) + 0.5 * min(len(left), len(right)) - 5 * len(crossing)


def order_fragments(frags: Sequence[Fragment], page_x0: float, page_x1: float, depth: int = 0) -> list[list[Fragment]]:
    """Split fragments into blocks (columns and sections) in reading order."""
    frags = list(frags)
    if not frags:
        return []
    gutter = _find_gutter(frags, page_x0, page_x1) if depth < 6 else None
    if gutter is None:
        return [sorted(frags, key=lambda f: (f.top, f.x0))]
    g0, g1 = gutter
    spanning = sorted((f for f in frags if f.x1 > g0 + 1 and f.x0 < g1 - 1), key=lambda f: f.top)
    rest = [f for f in frags if not (f.x1 > g0 + 1 and f.x0 < g1 - 1)]
    # Consecutive spanning fragments with nothing of the columns between them form one run
    # (a title, a full-width paragraph); the runs cut the page into sections, and each
    # section is read column by column.
    rest_tops = sorted(f.top for f in rest)
    runs: list[list[Fragment]] = []
    for s in spanning:
        if runs and not _any_between(rest_tops, runs[-1][-1].top, s.top):
            runs[-1].append(s)
        else:
            runs.append([s])
    blocks: list[list[Fragment]] = []
    y = float("-inf")

    def columns(lo_y: float, hi_y: float) -> None:
        section = [f for f in rest if lo_y <= f.top < hi_y]
        blocks.extend(order_fragments([f for f in section if f.x1 <= g0 + 1], page_x0, page_x1, depth + 1))
        blocks.extend(order_fragments([f for f in section if f.x0 >= g1 - 1], page_x0, page_x1, depth + 1))

    for run in runs:
        columns(y, run[0].top)
        blocks.append(run)
        y = run[-1].top
    columns(y, float("inf"))
    return [b for b in blocks if b]


def _any_between(sorted_values: list[float], lo: float, hi: float) -> bool:
    i = bisect.bisect_left(sorted_values, lo)
    return i < len(sorted_values) and sorted_values[i] < hi


def fragment_line(frag: Fragment, x_tolerance: float) -> tuple[str, bool]:
    """The fragment's text with word spaces restored and raised footnote markers dropped."""
    words = frag.words
    if not words:
        return "", False
    base_bottom = statistics.median(w["bottom"] for w in words if w.get("size", 10.0) >= 0.85 * frag.size) \
        if any(w.get("size", 10.0) >= 0.85 * frag.size for w in words) else frag.bottom
    parts: list[str] = []
    bold_chars = 0
    total_chars = 0
    prev = None
    for w in words:
        size = w.get("size", 10.0)
        raised = size < 0.8 * frag.size and w["bottom"] < base_bottom - 0.15 * frag.size
        if raised and _MARKER_RE.match(w["text"]):
            prev = w
            continue  # a footnote marker glued to a word ("practices69")
        if prev is not None and parts:
            gap = w["x0"] - prev["x1"]
            tol = x_tolerance * max(size, prev.get("size", 10.0))
            parts.append(" " if gap > tol else "")
        parts.append(w["text"])
        n = len(w["text"])
        total_chars += n
        if is_bold(w.get("fontname", "")):
            bold_chars += n
        prev = w
    return "".join(parts), total_chars > 0 and bold_chars == total_chars


def table_fragment(bbox: tuple[float, float, float, float], rows: list[str], size: float) -> Fragment:
    x0, top, x1, bottom = bbox
    return Fragment(words=[], x0=x0, x1=x1, top=top, bottom=bottom, size=size, rows=rows)


def page_lines(words: Sequence[dict], page_number: int, page_x0: float, page_x1: float,
               x_tolerance: float, tables: Sequence[Fragment] = ()) -> list[Line]:
    """Words of one page -> `Line`s in reading order (block numbers mark columns/sections).
    `tables` are fragments made by table_fragment(); their words must not be in `words`."""
    frags = build_fragments(words)
    if frags:
        page_size = statistics.median(f.size for f in frags)
        # A footnote marker raised so far that it forms a line of its own.
        frags = [f for f in frags if not (f.size < 0.8 * page_size and all(
            _MARKER_RE.match(w["text"]) for w in f.words))]
    frags = frags + list(tables)
    lines: list[Line] = []
    for block_no, block in enumerate(order_fragments(frags, page_x0, page_x1)):
        rows: list[list[Fragment]] = []
        for frag in sorted(block, key=lambda f: f.top):
            # fragments of one row of a block: a bullet and its text, a number and its title
            if rows and frag.rows is None and rows[-1][0].rows is None and any(
                    _same_row(r, frag) for r in rows[-1]):
                rows[-1].append(frag)
            else:
                rows.append([frag])
        for row in rows:
            if row[0].rows is not None:
                t = row[0]
                step = (t.bottom - t.top) / max(len(t.rows), 1)
                for k, text in enumerate(t.rows):
                    lines.append(Line(text=text, x0=t.x0, x1=t.x1, top=t.top + k * step,
                                      bottom=t.top + (k + 1) * step, size=t.size,
                                      page=page_number, block=block_no, kind="table"))
                continue
            row.sort(key=lambda f: f.x0)
            parts = [fragment_line(f, x_tolerance) for f in row]
            text = fix_rtl(" ".join(t for t, _ in parts if t.strip()))
            if not text.strip():
                continue
            lines.append(Line(
                text=text, x0=row[0].x0, x1=row[-1].x1, top=min(f.top for f in row),
                bottom=max(f.bottom for f in row), size=max(f.size for f in row),
                page=page_number, block=block_no,
                bold=all(b for t, b in parts if t.strip()),
            ))
    return lines


_RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LTR_RUN_RE = re.compile(r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f .,:/@%_+'\-]*[A-Za-z0-9\u00c0-\u024f])?")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def fix_rtl(text: str) -> str:
    """pdfminer gives Arabic and Hebrew in visual order (reversed); put a line whose letters are
    mostly right-to-left back into logical order, keeping embedded Latin words and numbers."""
    rtl = len(_RTL_RE.findall(text))
    if rtl == 0 or rtl <= sum(ch.isalpha() for ch in text) - rtl:
        return text
    reversed_text = text[::-1].translate(_MIRROR)
    return _LTR_RUN_RE.sub(lambda m: m.group(0)[::-1], reversed_text)


def _same_row(a: Fragment, b: Fragment) -> bool:
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap > 0.5 * min(a.bottom - a.top, b.bottom - b.top)
