"""OpenDocument text (.odt) -> blocks with odfpy.

Headings (text:h) become the heading context, list items are marked, table rows become one
block each, text boxes (draw:text-box) follow the paragraph they are anchored in, footnotes and
endnotes (text:note) come last, marked. Comments (office:annotation) and the deleted text kept
for tracked changes (text:tracked-changes) are not read.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ExtractionError
from pipeline.extract.clean import clean_text
from pipeline.extract.model import Block, RawDocument

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW_NS = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

_SKIP = {(OFFICE_NS, "annotation"), (OFFICE_NS, "annotation-end"), (TEXT_NS, "tracked-changes"),
         (TEXT_NS, "sequence-decls"), (TEXT_NS, "table-of-content"),
         (TEXT_NS, "alphabetical-index"), (TEXT_NS, "bibliography")}


class _Reader:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.notes: list[Block] = []
        self.headings: list[str] = []
        self.heading: str | None = None

    def inline(self, node, parts: list[str], boxes: list) -> None:
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                parts.append(child.data)
                continue
            if child.nodeType != child.ELEMENT_NODE:
                continue
            q = child.qname
            if q in _SKIP:
                continue
            if q == (TEXT_NS, "s"):
                parts.append(" " * int(child.getAttrNS(TEXT_NS, "c") or 1))
            elif q in ((TEXT_NS, "tab"), (TEXT_NS, "line-break")):
                parts.append(" ")
            elif q == (TEXT_NS, "note"):
                self.note(child)
            elif q == (DRAW_NS, "text-box"):
                boxes.append(child)
            else:
                self.inline(child, parts, boxes)

    def note(self, node) -> None:
        cls = node.getAttrNS(TEXT_NS, "note-class") or "footnote"
        kind = "endnote" if cls == "endnote" else "footnote"
        for child in node.childNodes:
            if child.nodeType == child.ELEMENT_NODE and child.qname == (TEXT_NS, "note-body"):
                sub = _Reader()
                sub.container(child, in_list=False)
                text = clean_text(" ".join(b.text for b in sub.blocks))
                if text:
                    self.notes.append(Block(text=text, kind=kind))
                self.notes.extend(sub.notes)

    def paragraph(self, node, kind: str) -> None:
        parts: list[str] = []
        boxes: list = []
        self.inline(node, parts, boxes)
        text = clean_text("".join(parts))
        if text:
            self.blocks.append(Block(text=text, kind=kind, heading=self.heading))
        for box in boxes:
            self.container(box, in_list=False)

    def row_text(self, row) -> str:
        cells = []
        for cell in row.childNodes:
            if cell.nodeType == cell.ELEMENT_NODE and cell.qname == (TABLE_NS, "table-cell"):
                sub = _Reader()
                sub.container(cell, in_list=False)
                self.notes.extend(sub.notes)
                text = clean_text(" ".join(b.text for b in sub.blocks))
                if text:
                    cells.append(text)
        return " | ".join(cells)

    def table(self, node) -> None:
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname == (TABLE_NS, "table-row"):
                row = self.row_text(child)
                if row:
                    self.blocks.append(Block(text=row, kind="table", heading=self.heading))
            elif child.qname[0] == TABLE_NS:  # header rows, row groups
                self.table(child)

    def container(self, node, in_list: bool) -> None:
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE or child.qname in _SKIP:
                continue
            q = child.qname
            if q == (TEXT_NS, "h"):
                parts: list[str] = []
                boxes: list = []
                self.inline(child, parts, boxes)
                text = clean_text("".join(parts))
                if text:
                    self.heading = text
                    self.headings.append(text)
                for box in boxes:
                    self.container(box, in_list=False)
            elif q == (TEXT_NS, "p"):
                self.paragraph(child, "list_item" if in_list else "body")
            elif q == (TEXT_NS, "list"):
                self.container(child, in_list=True)
            elif q in ((TEXT_NS, "list-item"), (TEXT_NS, "list-header")):
                self.container(child, in_list=True)
            elif q == (TABLE_NS, "table"):
                self.table(child)
            else:  # sections, frames, soft page breaks...
                self.container(child, in_list)


def extract_odt(path: Path) -> RawDocument:
    from odf.opendocument import load

    try:
        document = load(str(path))
    except Exception as exc:  # odfpy raises KeyError, xml.sax errors, zipfile errors...
        raise ExtractionError(
            "corrupt", f"The OpenDocument file cannot be read ({type(exc).__name__}: {exc}). Ask "
            "the contributor to save it again, or as .docx or PDF.") from None
    reader = _Reader()
    reader.container(document.text, in_list=False)
    blocks = reader.blocks
    if not blocks and reader.headings:
        blocks = [Block(text=h) for h in reader.headings]
    blocks = blocks + reader.notes
    title = None
    author = None
    try:
        from odf import dc, meta

        for el in document.meta.getElementsByType(dc.Title):
            title = clean_text(str(el)) or None
        for el in document.meta.getElementsByType(meta.InitialCreator):
            author = clean_text(str(el)) or None
    except Exception:  # metadata is optional
        pass
    return RawDocument(file_type="odt", blocks=blocks, headings=reader.headings,
                       title=title or (reader.headings[0] if reader.headings else None),
                       author=author)
