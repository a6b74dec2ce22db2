"""PDF -> blocks with pdfplumber: reading order, paragraphs, page numbers, clean text.

Per page: characters are de-duplicated (bold drawn twice), words are cut with a tolerance
relative to the font size (justified LaTeX text otherwise loses its spaces), unmapped glyphs
"(cid:N)" and ligatures are cleaned, columns are detected (layout.py), and each page is closed
after use so memory stays flat on long documents. Across pages: running headers/footers and page
numbers are dropped, lines are rebuilt into paragraphs with de-hyphenation (paragraphs.py) and
headings are recognised by size or weight.
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

from pipeline.errors import ExtractionError
from pipeline.extract import clean
from pipeline.extract.layout import Fragment, page_lines, table_fragment
from pipeline.extract.model import Block, RawDocument
from pipeline.extract.pdf_objects import load_objects
from pipeline.extract.paragraphs import (
    Line,
    Para,
    body_font_size,
    document_vocabulary,
    ends_sentence,
    rebuild_paragraphs,
    remove_page_furniture,
    split_footnotes,
)

log = logging.getLogger(__name__)

# Word-splitting tolerance as a fraction of the font size (pdfplumber's default is 3 pt flat,
# which glues the words of tightly justified text: "VladimirKarpukhin").
X_TOLERANCE_RATIO = 0.15
# A page that fails is skipped; when more than this share of pages fails, the file is corrupt.
MAX_FAILED_PAGE_SHARE = 0.5


def _open(path: Path):
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        return pdfplumber.open(path)
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else None
        if isinstance(inner, PDFPasswordIncorrect):
            raise ExtractionError(
                "encrypted",
                "The PDF is protected by a password. Ask the contributor for an unprotected copy.",
            ) from None
        what = str(inner) if inner is not None and str(inner) else type(inner).__name__
        raise ExtractionError(
            "corrupt",
            f"The PDF is damaged and cannot be opened ({what}). Ask the contributor to export it "
            "again or to send the original document.",
        ) from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ExtractionError(
            "corrupt",
            f"The PDF is damaged and cannot be opened ({type(exc).__name__}: {exc}). Ask the "
            "contributor to export it again or to send the original document.",
        ) from None


def _dedupe_chars(page):
    """Drop characters drawn twice or more at (almost) the same place (fake bold: "项项目目").

    pdfplumber's Page.dedupe_chars does this too but is quadratic-ish on dense pages (about
    1.5 s a page on a Federal Register page); a grid lookup does it in linear time.
    """
    seen: set[tuple[str, int, int]] = set()
    duplicates: set[int] = set()
    for ch in page.chars:
        x, y = round(ch["x0"]), round(ch["top"])
        t = ch["text"]
        # the nine neighbouring cells spelled out: a generator here was 15 % of PDF extraction
        if ((t, x, y) in seen or (t, x, y - 1) in seen or (t, x, y + 1) in seen
                or (t, x - 1, y) in seen or (t, x - 1, y - 1) in seen or (t, x - 1, y + 1) in seen
                or (t, x + 1, y) in seen or (t, x + 1, y - 1) in seen
                or (t, x + 1, y + 1) in seen):
            duplicates.add(id(ch))
        else:
            seen.add((t, x, y))
    if not duplicates:
        return page
    return page.filter(lambda obj: id(obj) not in duplicates)


def _orientation(chars: list[dict]) -> str:
    """How the page's text runs: 'upright' (left to right), 'cw' (rotated, top to bottom),
    'ccw' (rotated, bottom to top) or 'vertical' (upright CJK glyphs stacked in columns)."""
    if not chars:
        return "upright"
    counts = {"upright": 0, "cw": 0, "ccw": 0}
    for ch in chars:
        a, b = ch["matrix"][0], ch["matrix"][1]
        if abs(a) >= abs(b):
            counts["upright"] += 1
        elif b < 0:
            counts["cw"] += 1
        else:
            counts["ccw"] += 1
    best = max(counts, key=lambda k: counts[k])
    if best != "upright":
        return best
    vertical = horizontal = 0
    for c1, c2 in zip(chars, chars[1:]):
        size = max(c1["size"], 1.0)
        dx, dy = c2["x0"] - c1["x0"], c2["top"] - c1["top"]
        if abs(dx) < 0.2 * size and 0 < dy < 1.6 * size:
            vertical += 1
        elif abs(dy) < 0.2 * size and 0 < dx < 1.6 * size:
            horizontal += 1
    return "vertical" if vertical > 20 and vertical > 2 * horizontal else "upright"


def _to_text_frame(words: list[dict], orientation: str, width: float, height: float) -> list[dict]:
    """Map word boxes into a frame where the text runs left to right and lines go down, so
    the layout code needs to know only one direction."""
    if orientation == "upright":
        return words
    out = []
    for w in words:
        w = dict(w)
        x0, x1, top, bottom = w["x0"], w["x1"], w["top"], w["bottom"]
        if orientation in ("cw", "vertical"):   # lines run downwards, columns right to left
            w["x0"], w["x1"], w["top"], w["bottom"] = top, bottom, width - x1, width - x0
        else:                                   # ccw: lines run upwards, columns left to right
            w["x0"], w["x1"], w["top"], w["bottom"] = height - bottom, height - top, x0, x1
        w["size"] = w["bottom"] - w["top"] if orientation != "vertical" else w.get("size", 10.0)
        out.append(w)
    return out


def _tables(page) -> list[tuple[tuple[float, float, float, float], list[str]]]:
    """Ruled tables (drawn cell borders) on an upright page: bounding box and row texts.

    A ruled box of one column (a framed paragraph, a call-out) is not a table: its text stays
    in the flow. Tables are only looked for where the page draws enough lines for a grid.
    """
    if len(page.lines) + len(page.rects) < 4:
        return []
    out = []
    for table in page.find_tables():
        rows = table.extract()
        if len(rows) < 2 or max((sum(1 for c in r if c) for r in rows), default=0) < 2:
            continue
        texts = []
        for row in rows:
            cells = [clean.clean_text(c) for c in row if c]
            cells = [c for c in cells if c]
            if cells:
                texts.append(" | ".join(cells))
        if texts:
            out.append((tuple(float(v) for v in table.bbox), texts))
    return out


def _inside(word: dict, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return x0 <= cx <= x1 and top <= cy <= bottom


def _page_words(page) -> tuple[list[dict], float, float, float, list[Fragment]]:
    """Cleaned words of a page in its text frame, that frame's horizontal extent and height,
    and its ruled tables as layout fragments (upright pages only)."""
    load_objects(page)
    page = _dedupe_chars(page)
    orientation = _orientation(page.chars)
    # y_tolerance 1: a raised footnote marker between two tightly set lines must not chain the
    # lines into one (pdfplumber clusters characters by their top)
    options = dict(x_tolerance_ratio=X_TOLERANCE_RATIO, y_tolerance=1, keep_blank_chars=False,
                   use_text_flow=False, extra_attrs=["size", "fontname", "upright"],
                   expand_ligatures=True)
    if orientation in ("cw", "vertical"):
        options.update(line_dir="rtl", char_dir="ttb", line_dir_rotated="rtl", char_dir_rotated="ttb")
    elif orientation == "ccw":
        options.update(line_dir_rotated="ltr", char_dir_rotated="btt")
    words = page.extract_words(**options)
    if orientation == "upright":
        # Sideways text in a margin (arXiv stamps, rotated labels) is dropped when it is a
        # minority of the page.
        upright = [w for w in words if w.get("upright", True)]
        if len(upright) >= 0.5 * len(words):
            words = upright
    elif orientation in ("cw", "ccw"):
        words = [w for w in words if not w.get("upright", False)]
    out = []
    for w in words:
        text = clean.normalise_bullets(clean.expand_ligatures(clean.remove_cid(w["text"])))
        text = text.replace("\u00ad", "")
        if text.strip():
            w = dict(w)
            w["text"] = text
            out.append(w)
    width, height = float(page.width), float(page.height)
    out = _to_text_frame(out, orientation, width, height)
    if orientation != "upright":
        return out, 0.0, height, width, []
    tables = []
    for bbox, rows in _tables(page):
        inside = [w for w in out if _inside(w, bbox)]
        if not inside:
            continue
        size = statistics.median(w.get("size", 10.0) for w in inside)
        tables.append(table_fragment(bbox, rows, size))
        out = [w for w in out if not _inside(w, bbox)]
    return out, float(page.bbox[0]), float(page.bbox[2]), height, tables


def extract_pdf(path: Path, max_pages: int) -> RawDocument:
    pdf = _open(path)
    try:
        n_pages = len(pdf.pages)
        if n_pages == 0:
            raise ExtractionError(
                "empty",
                "The PDF has no pages (its page tree is empty or broken). Ask the contributor to "
                "export it again.",
            )
        if n_pages > max_pages:
            raise ExtractionError(
                "too_large",
                f"The PDF has {n_pages} pages, more than the {max_pages} this pipeline reads "
                "(extract.max_pages). Ask the contributor for the relevant part, or raise the limit.",
            )
        meta = pdf.metadata or {}
        pages_lines: list[list[Line]] = []
        heights: list[float] = []
        failed: list[int] = []
        chars_seen = 0
        for number, page in enumerate(pdf.pages, start=1):
            try:
                words, frame_x0, frame_x1, frame_height, tables = _page_words(page)
                chars_seen += sum(len(w["text"]) for w in words)
                chars_seen += sum(len(r) for t in tables for r in (t.rows or []))
                lines = page_lines(words, number, frame_x0, frame_x1, X_TOLERANCE_RATIO, tables)
                pages_lines.append(lines)
                heights.append(frame_height)
            except MemoryError:
                raise
            except Exception as exc:  # one bad page must not lose the others
                log.debug("page %s of %s failed: %r", number, path, exc)
                failed.append(number)
            finally:
                page.close()
    finally:
        pdf.close()

    if failed and len(failed) > MAX_FAILED_PAGE_SHARE * n_pages and chars_seen == 0:
        raise ExtractionError(
            "corrupt",
            f"The PDF opens but its text cannot be read ({len(failed)} of {n_pages} pages "
            "fail). Ask the contributor to export it again, e.g. with 'Save as PDF' from the "
            "original document.",
        )
    if chars_seen == 0:
        raise ExtractionError(
            "no_text_layer",
            f"The PDF's {n_pages} page(s) hold images only, no text layer (a scan or a "
            "flattened export). Run OCR on it, or ask the contributor for the original document.",
        )

    pages_lines = remove_page_furniture(pages_lines, heights)
    body_size = body_font_size(ln for lines in pages_lines for ln in lines)
    body_pages, note_pages = split_footnotes(pages_lines, heights, body_size)
    vocab = document_vocabulary(ln.text for lines in pages_lines for ln in lines)
    paras = rebuild_paragraphs([ln for lines in body_pages for ln in lines], vocab)
    notes = rebuild_paragraphs([ln for lines in note_pages for ln in lines], vocab)
    blocks, headings = _to_blocks(paras, body_size)
    for note in notes:
        text = clean.clean_text(note.text)
        if text:
            blocks.append(Block(text=text, kind="footnote", page=note.page))
    warnings = []
    if failed:
        warnings.append(f"pages {', '.join(map(str, failed))} could not be read and were skipped")
    title = _plausible_title(meta.get("Title")) or (headings[0] if headings else None)
    author = meta.get("Author") if isinstance(meta.get("Author"), str) else None
    return RawDocument(file_type="pdf", blocks=blocks, pages=n_pages, title=title,
                       author=author, headings=headings, warnings=warnings)


def _plausible_title(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = clean.clean_text(value)
    low = text.lower()
    if len(text) < 4 or low.startswith(("microsoft word", "untitled")) or low.endswith(
        (".doc", ".docx", ".pdf", ".indd", ".tex", ".dvi", ".txt", ".exe", ".rtf")
    ):
        return None
    if " " not in text and ("_" in text or "." in text):   # a file name, not a title
        return None
    return text


def _to_blocks(paras: list[Para], body_size: float) -> tuple[list[Block], list[str]]:
    """Paragraphs -> blocks: a heading is not emitted but becomes the context of what follows."""
    blocks: list[Block] = []
    headings: list[str] = []
    heading: str | None = None
    for p in paras:
        text = clean.clean_text(p.text)
        if not text:
            continue
        if p.kind != "table" and _is_heading(p, text, body_size):
            heading = text
            headings.append(text)
            continue
        blocks.append(Block(text=text, kind=p.kind, page=p.page, heading=heading))
    if not blocks and headings:  # a document of headings only: keep its text
        blocks = [Block(text=h, kind="body", page=None) for h in headings]
    return blocks, headings


def _is_heading(p: Para, text: str, body_size: float) -> bool:
    if p.n_lines > 2 or len(text) > 150 or not clean.has_letters(text):
        return False
    if ends_sentence(text) and not text.endswith(":") and not text.endswith("?"):
        return False
    if p.kind == "list_item" and not p.bold:
        return False
    bigger = p.size >= 1.12 * body_size
    return bigger or (p.bold and len(text.split()) <= 15)
