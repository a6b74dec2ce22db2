"""The body rows of large worksheets, written as SpreadsheetML and spliced into a workbook.

Why: at 3,000 contributions the Paragraphs sheet is 69,000 rows x 19 columns, and xlsxwriter's
per-cell API took 12.8 s of a 28-s re-run for it (it dispatches, stores and re-reads every cell).
The rows hold nothing but inline strings and integers in their column's style, so they are
written here as the very XML xlsxwriter writes for them in constant_memory mode (the tests
compare the two byte for byte) in about a fifth of the time. xlsxwriter still writes the whole
workbook: every other sheet, the styles, and these sheets' header rows, column widths, frozen
panes, autofilters and dropdowns; only the rows below the headers are added afterwards.

Values go through cells.neutralise first, exactly as cells.write_cell does: no value ever
becomes a formula, and text is always escaped (xlsxwriter would pass a string shaped like
"<r>...</r>" through as raw XML; neutralise marks such text, and this writer escapes it anyway).
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Sequence, Union
from xml.etree import ElementTree

import orjson
from xlsxwriter.utility import xl_col_to_name

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import code_fingerprint
from pipeline.review.cells import neutralise

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_COL = re.compile(rb'<col min="(\d+)" max="(\d+)"[^>]*?(?: style="(\d+)")')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
# what xlsxwriter rewrites in text: its own _xHHHH_ escape (escaped once more), the control
# characters XML cannot hold (as _xHHHH_) and the two non-characters
_NEEDS_CONTROL_ESCAPE = re.compile("_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")


class SheetSpliceError(RuntimeError):
    """The workbook xlsxwriter wrote does not have the shape the rows are spliced into."""


def _text_xml(text: str) -> str:
    if _NEEDS_CONTROL_ESCAPE.search(text):
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


_SOURCES = ("review/sheet_rows.py", "review/cells.py")   # all a row's XML depends on
_ROW = "\x00"   # the row number's place in a row's XML: neutralise() removes it from any value


def _row_xml(values: Sequence[Any], letters: Sequence[str], style_attr: Sequence[str]) -> str:
    """One <row>, with _ROW where its number goes (a row's XML does not depend on its place)."""
    out = ['<row r="\x00">']
    add = out.append
    for col, raw in enumerate(values):
        value = neutralise(raw)
        if value is None or value == "":
            continue
        ref = letters[col] + _ROW
        if isinstance(value, bool):
            add(f'<c r="{ref}"{style_attr[col]} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, (int, float)) and math.isfinite(value):
            add(f'<c r="{ref}"{style_attr[col]}><v>{value:.16G}</v></c>')
        else:
            text = str(value)
            space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
            add(f'<c r="{ref}"{style_attr[col]} t="inlineStr"><is><t{space}>'
                f'{_text_xml(text)}</t></is></c>')
    add("</row>")
    return "".join(out)


_BETWEEN = "\x01"   # between the rows of a stored block: never in a row's XML (escaped)


class RowBlock(NamedTuple):
    """Consecutive rows whose values are determined by `key` (None: not known), made by
    `make_rows` only when no earlier run stored the block: a contribution's paragraph rows
    under its provenance state, reviewers' labels and option groups. A block is looked up
    as one, so its rows' values are not even made when it is stored (at 3,000
    contributions, making, hashing and looking up 69,000 paragraph rows one by one took
    about 1.4 s of every run)."""

    key: str | None
    count: int
    make_rows: Callable[[], Sequence[Sequence[Any]]]


SheetRows = Union[Sequence[Sequence[Any]], Sequence[RowBlock]]


class RowCache:
    """A row's XML (without its number) under sha256 of its values and its columns' styles,
    and a block's rows under sha256 of its key and the styles, in one SQLite file per version
    of this module: a re-run after adding one contribution writes the XML of that
    contribution's rows only (69,000 rows at 3,000 contributions: 2.2 s -> 0.6 s)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / f"rows-{code_fingerprint(_SOURCES)}.sqlite"
        self._store = HashStore(self.path, "rows", "xml", "TEXT")
        self._blocks = HashStore(self.path, "blocks", "xml", "TEXT")
        self.hits = self.misses = 0
        self.block_hits = self.block_misses = 0

    def templates(self, rows: Sequence[Sequence[Any]], styles: Sequence[str | None],
                  make: Callable[[Sequence[Any]], str]) -> list[str]:
        prefix = orjson.dumps(list(styles))
        keys = [hashlib.sha256(prefix + orjson.dumps(list(v), default=repr)).hexdigest()
                for v in rows]
        found: dict[str, str] = self._store.get_many(keys)
        new: dict[str, str] = {}
        out: list[str] = []
        for key, values in zip(keys, rows):
            xml = found.get(key) or new.get(key)
            if xml is None:
                xml = new[key] = make(values)
                self.misses += 1
            else:
                self.hits += 1
            out.append(xml)
        self._store.put_many(new.items())
        return out

    def block_templates(self, blocks: Sequence[RowBlock], styles: Sequence[str | None],
                        make: Callable[[Sequence[Any]], str]) -> list[str]:
        """The rows' XML of consecutive blocks: stored blocks as stored, the others through
        templates() (row by row: when a new file changes the groups of many paragraphs, most
        rows of the blocks that must be made are unchanged) and, under their key, stored as
        one."""
        prefix = orjson.dumps(list(styles))
        keys = [None if b.key is None else
                hashlib.sha256(prefix + b.key.encode("utf-8")).hexdigest() for b in blocks]
        found: dict[str, str] = self._blocks.get_many([k for k in keys if k is not None])
        new: list[tuple[str, str]] = []
        out: list[str] = []
        for key, block in zip(keys, blocks):
            stored = found.get(key) if key is not None else None
            rows = stored.split(_BETWEEN) if stored else None
            if rows is not None and len(rows) == block.count:
                self.block_hits += 1
            else:
                rows = self.templates(block.make_rows(), styles, make)
                if key is not None:
                    self.block_misses += 1
                    if rows:
                        new.append((key, _BETWEEN.join(rows)))
            out.extend(rows)
        self._blocks.put_many(new)
        return out

    def close(self) -> None:
        self._store.close()
        self._blocks.close()


ROWS_PER_CHUNK = 2000   # rows looked up, made and written at a time: memory stays flat


def as_blocks(rows: SheetRows) -> list[RowBlock]:
    """Rows as blocks: plain rows (values in column order) as blocks of ROWS_PER_CHUNK rows
    without a key."""
    if rows and isinstance(rows[0], RowBlock):
        return list(rows)   # type: ignore[arg-type]
    plain: Sequence[Sequence[Any]] = rows   # type: ignore[assignment]
    return [RowBlock(None, len(chunk), lambda chunk=chunk: chunk)
            for chunk in (plain[i:i + ROWS_PER_CHUNK]
                          for i in range(0, len(plain), ROWS_PER_CHUNK))]


def iter_rows_xml(rows: SheetRows, first_row: int, styles: Sequence[str | None],
                  cache: RowCache | None = None) -> Iterator[str]:
    """<row> elements for `rows` (values in column order, or RowBlocks), the first one
    numbered first_row (1-based), about ROWS_PER_CHUNK rows at a time. A blank value writes
    no cell; styles[i] is column i's style index."""
    letters = [xl_col_to_name(i) for i in range(len(styles))]
    style_attr = [f' s="{s}"' if s else "" for s in styles]

    def make(values: Sequence[Any]) -> str:
        return _row_xml(values, letters, style_attr)

    number = first_row
    batch: list[RowBlock] = []
    held = 0
    blocks = as_blocks(rows)
    for i, block in enumerate(blocks):
        batch.append(block)
        held += block.count
        if held < ROWS_PER_CHUNK and i + 1 < len(blocks):
            continue
        templates = (cache.block_templates(batch, styles, make) if cache is not None
                     else [make(v) for b in batch for v in b.make_rows()])
        yield "".join(t.replace(_ROW, str(r)) for r, t in enumerate(templates, start=number))
        number += len(templates)
        batch, held = [], 0


def _sheet_part(zf: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip member holding the worksheet named sheet_name (workbook.xml + its rels)."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rid = None
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        if sheet.get("name") == sheet_name:
            rid = sheet.get(f"{{{_REL_NS}}}id")
    if rid is None:
        raise SheetSpliceError(f"the workbook has no sheet named {sheet_name!r}")
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise SheetSpliceError(f"the workbook's relationships do not name sheet {sheet_name!r}")


def column_styles(sheet_xml: bytes, n_columns: int) -> list[str | None]:
    """Each column's style index from the sheet's <cols> (what a cell without a format of its
    own takes, as xlsxwriter writes it)."""
    styles: list[str | None] = [None] * n_columns
    for lo, hi, style in _COL.findall(sheet_xml):
        for col in range(int(lo) - 1, min(int(hi), n_columns)):
            styles[col] = style.decode() if style else None
    return styles


def splice_rows(path: Path, sheets: dict[str, tuple[SheetRows, int]],
                cache: RowCache | None = None) -> None:
    """Add rows below the one header row of each named sheet in the workbook at `path`:
    sheets maps a sheet's name to (its rows or row blocks, its number of columns).

    The workbook is rewritten beside itself and moved into place; each sheet's other parts
    (autofilter, dropdowns) must already cover its rows. Compression level 1: the sheets are
    tens of megabytes of repetitive XML, and level 6 took twice as long for a 25% smaller
    file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".rows")
    with zipfile.ZipFile(path) as src:
        parts = {_sheet_part(src, name): name for name in sheets}
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                name = parts.get(info.filename)
                if name is None:
                    with src.open(info) as fin, dst.open(info.filename, "w") as fout:
                        shutil.copyfileobj(fin, fout)
                    continue
                rows, n_columns = sheets[name]
                xml = src.read(info)
                end = xml.find(b"</sheetData>")
                if end < 0 or xml.count(b"<row ") != 1:
                    raise SheetSpliceError(f"sheet {name!r} is not a header row alone")
                count = sum(b.count for b in as_blocks(rows))
                last = f"{xl_col_to_name(n_columns - 1)}{count + 1}"
                head = _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), xml[:end],
                                      count=1)
                with dst.open(info.filename, "w", force_zip64=True) as fh:
                    fh.write(head)
                    for piece in iter_rows_xml(rows, 2, column_styles(xml, n_columns), cache):
                        fh.write(piece.encode("utf-8"))
                    fh.write(xml[end:])
    tmp.replace(path)
