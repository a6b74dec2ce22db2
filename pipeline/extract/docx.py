"""Word .docx -> blocks with python-docx (package, styles, core properties) and lxml (body).

The body is walked as XML rather than through `Document.paragraphs`, because python-docx
drops text inside tracked insertions (w:ins), does not see text boxes, and has no footnote API:
- paragraphs and tables come in document order, content controls (w:sdt) included;
- text in w:ins / w:moveTo is kept, text in w:del / w:moveFrom and hidden runs is not;
- a text box is stored twice (DrawingML in mc:Choice, a VML copy in mc:Fallback): only the
  first is read, and its paragraphs follow the paragraph they are anchored in;
- headings (Heading/Title styles, outline levels, or a short all-bold line) are not emitted but
  become the `heading` of what follows; list items are marked; table rows become one block each;
- footnotes and endnotes are read from their package parts and come last, marked;
- headers, footers and comments live in other parts and are never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pipeline.errors import ExtractionError
from pipeline.extract.clean import clean_text
from pipeline.extract.model import Block, RawDocument

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
W = "{%s}" % W_NS
MC = "{%s}" % MC_NS
V_TEXTBOX = "{urn:schemas-microsoft-com:vml}textbox"

# Subtrees whose text is not body text (deleted or hidden revisions, properties, field codes,
# the VML fallback copy of a text box).
_SKIP = {
    W + "pPr", W + "rPr", W + "del", W + "moveFrom", W + "instrText", W + "delText",
    W + "delInstrText", MC + "Fallback", W + "sectPr", W + "tblPr", W + "trPr", W + "tcPr",
    W + "tblGrid",
}
_HEADING_NAME_RE = re.compile(
    r"^(heading|titre|título|titulo|überschrift|titolo|kop|rubrik|заголовок)\s*\d", re.IGNORECASE
)
_TITLE_NAMES = {"title", "subtitle", "titre", "título", "titel", "sous-titre"}
_TOC_NAME_RE = re.compile(r"^(toc|table of contents|inhaltsverzeichnis|tdm)\s*\d*", re.IGNORECASE)
_NOTE_TYPES_SKIPPED = {"separator", "continuationSeparator", "continuationNotice"}


@dataclass
class _Style:
    name: str
    based_on: str | None
    outline: int | None
    numbered: bool
    bold: bool


def _on(el: etree._Element | None) -> bool:
    """A w:b / w:vanish style toggle: present and not switched off."""
    if el is None:
        return False
    return el.get(W + "val", "true").lower() not in ("0", "false", "off", "none")


class _Styles:
    def __init__(self, styles_element: etree._Element | None) -> None:
        self.by_id: dict[str, _Style] = {}
        if styles_element is None:
            return
        for st in styles_element.iter(W + "style"):
            sid = st.get(W + "styleId")
            if not sid:
                continue
            name_el = st.find(W + "name")
            based = st.find(W + "basedOn")
            outline = st.find(f"{W}pPr/{W}outlineLvl")
            num = st.find(f"{W}pPr/{W}numPr/{W}numId")
            self.by_id[sid] = _Style(
                name=(name_el.get(W + "val") if name_el is not None else sid) or sid,
                based_on=based.get(W + "val") if based is not None else None,
                outline=int(outline.get(W + "val")) if outline is not None and
                (outline.get(W + "val") or "").isdigit() else None,
                numbered=num is not None and num.get(W + "val") not in ("0", None),
                bold=_on(st.find(f"{W}rPr/{W}b")),
            )

    def chain(self, style_id: str | None) -> list[_Style]:
        out: list[_Style] = []
        seen: set[str] = set()
        while style_id and style_id in self.by_id and style_id not in seen:
            seen.add(style_id)
            st = self.by_id[style_id]
            out.append(st)
            style_id = st.based_on
        return out


@dataclass
class _Para:
    text: str
    style_name: str
    heading: bool
    list_item: bool
    toc: bool
    boxes: list[_Para]


class _Reader:
    def __init__(self, styles: _Styles) -> None:
        self.styles = styles

    # -- paragraphs -------------------------------------------------------------------------
    def paragraph(self, p: etree._Element) -> _Para:
        parts: list[str] = []
        boxes: list[_Para] = []
        bold_flags: list[bool] = []
        self._collect(p, parts, boxes, bold_flags)
        text = clean_text("".join(parts))
        ppr = p.find(W + "pPr")
        style_id = None
        own_outline = None
        own_num = None
        if ppr is not None:
            ps = ppr.find(W + "pStyle")
            style_id = ps.get(W + "val") if ps is not None else None
            ol = ppr.find(W + "outlineLvl")
            if ol is not None and (ol.get(W + "val") or "").isdigit():
                own_outline = int(ol.get(W + "val"))
            num = ppr.find(f"{W}numPr/{W}numId")
            if num is not None:
                own_num = num.get(W + "val") not in ("0", None)
        chain = self.styles.chain(style_id)
        name = chain[0].name if chain else (style_id or "Normal")
        lname = name.lower()
        outline = own_outline
        if outline is None:
            outline = next((s.outline for s in chain if s.outline is not None), None)
        numbered = own_num if own_num is not None else any(s.numbered for s in chain)
        style_bold = any(s.bold for s in chain)
        heading = (
            bool(_HEADING_NAME_RE.match(lname)) or lname in _TITLE_NAMES
            or (outline is not None and outline < 9)
        )
        list_item = numbered or lname.startswith(("list", "liste", "lista"))
        all_bold = bool(bold_flags) and all(f or style_bold for f in bold_flags)
        if not heading and all_bold and not list_item and _pseudo_heading(text):
            heading = True
        return _Para(text=text, style_name=name, heading=heading and bool(text),
                     list_item=list_item, toc=bool(_TOC_NAME_RE.match(lname)), boxes=boxes)

    def _collect(self, el: etree._Element, parts: list[str], boxes: list[_Para],
                 bold_flags: list[bool]) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == W + "r":
                rpr = child.find(W + "rPr")
                if rpr is not None and _on(rpr.find(W + "vanish")):
                    continue  # hidden text
                before = len(parts)
                self._collect(child, parts, boxes, bold_flags)
                if any(s.strip() for s in parts[before:]):
                    bold_flags.append(rpr is not None and _on(rpr.find(W + "b")))
            elif tag == W + "t":
                parts.append(child.text or "")
            elif tag in (W + "tab", W + "br", W + "cr"):
                parts.append(" ")
            elif tag == W + "noBreakHyphen":
                parts.append("-")
            elif tag == W + "txbxContent":
                boxes.extend(self.blocks_of(child))
            elif tag == MC + "AlternateContent":
                choice = child.find(MC + "Choice")
                if choice is not None:
                    self._collect(choice, parts, boxes, bold_flags)
            else:
                self._collect(child, parts, boxes, bold_flags)

    # -- block containers -----------------------------------------------------------------
    def blocks_of(self, container: etree._Element) -> list[_Para]:
        """Paragraphs of a text box (or any container), tables flattened to rows."""
        out: list[_Para] = []
        for kind, el in iter_block_elements(container):
            if kind == "p":
                para = self.paragraph(el)
                out.append(para)
                out.extend(para.boxes)
                para.boxes = []
            else:
                for row in self.table_rows(el):
                    out.append(_Para(text=row, style_name="table", heading=False,
                                     list_item=False, toc=False, boxes=[]))
        return out

    def cell_text(self, tc: etree._Element) -> str:
        texts: list[str] = []
        for kind, el in iter_block_elements(tc):
            if kind == "p":
                para = self.paragraph(el)
                texts.append(para.text)
                texts.extend(b.text for b in para.boxes)
            else:
                texts.extend(self.table_rows(el))
        return clean_text(" ".join(t for t in texts if t))

    def table_rows(self, tbl: etree._Element) -> list[str]:
        rows: list[str] = []
        for tr in _iter_rows(tbl):
            cells = [self.cell_text(tc) for tc in _iter_cells(tr)]
            cells = [c for c in cells if c]
            if cells:
                rows.append(" | ".join(cells))
        return rows


def iter_block_elements(container: etree._Element):
    """('p', el) and ('tbl', el) in document order, looking inside content controls."""
    for child in container:
        tag = child.tag
        if tag == W + "p":
            yield "p", child
        elif tag == W + "tbl":
            yield "tbl", child
        elif tag in (W + "sdt", W + "customXml", W + "ins", W + "moveTo", W + "smartTag"):
            inner = child.find(W + "sdtContent") if tag == W + "sdt" else child
            if inner is not None:
                yield from iter_block_elements(inner)
        elif tag == MC + "AlternateContent":
            choice = child.find(MC + "Choice")
            if choice is not None:
                yield from iter_block_elements(choice)


def _iter_wrapped(parent: etree._Element, tag: str):
    """Children `tag` of parent, looking through content controls and custom XML wrappers."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in (W + "sdt", W + "customXml"):
            inner = child.find(W + "sdtContent") if child.tag == W + "sdt" else child
            if inner is not None:
                yield from _iter_wrapped(inner, tag)


def _iter_rows(tbl: etree._Element):
    return _iter_wrapped(tbl, W + "tr")


def _iter_cells(tr: etree._Element):
    return _iter_wrapped(tr, W + "tc")


def _pseudo_heading(text: str) -> bool:
    """A short, all-bold line that does not read as a sentence: a question or section title."""
    if not text or len(text) > 150 or len(text.split()) > 15:
        return False
    return not text.rstrip().endswith((".", ";", ","))


def _notes(document, reltype_suffix: str, kind: str, reader: _Reader) -> list[Block]:
    blocks: list[Block] = []
    for rel in document.part.rels.values():
        if rel.is_external or not rel.reltype.endswith(reltype_suffix):
            continue
        root = etree.fromstring(rel.target_part.blob)
        tag = W + ("footnote" if kind == "footnote" else "endnote")
        for note in root.iter(tag):
            if note.get(W + "type") in _NOTE_TYPES_SKIPPED:
                continue
            texts = [p.text for p in reader.blocks_of(note) if p.text]
            text = clean_text(" ".join(texts))
            if text:
                blocks.append(Block(text=text, kind=kind))
    return blocks


def _open(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except PackageNotFoundError as exc:
        raise ExtractionError(
            "corrupt", f"The Word file cannot be opened as a package ({exc}). Ask the contributor "
            "to save it again.") from None
    except ValueError as exc:  # "file '...' is not a Word file, content type is ..."
        raise ExtractionError(
            "unsupported", f"The package is not a Word document ({exc}). Ask the contributor for a "
            ".docx or PDF version.") from None
    except KeyError as exc:
        raise ExtractionError(
            "corrupt", f"The Word package lacks a part it refers to ({exc}). Ask the contributor "
            "to save it again as a Word document (.docx).") from None
    except etree.XMLSyntaxError as exc:
        if "memory" in str(exc).lower() or "unknown error" in str(exc).lower():
            raise MemoryError(str(exc)) from None  # libxml2 out of memory under the cap
        raise ExtractionError(
            "corrupt", f"The Word file's XML is damaged ({exc}). Ask the contributor to save it "
            "again.") from None


def extract_docx(path: Path) -> RawDocument:
    document = _open(path)
    try:
        styles = _Styles(document.styles.element)
    except (KeyError, ValueError):  # no styles part: every paragraph is Normal
        styles = _Styles(None)
    reader = _Reader(styles)
    body = document.element.body
    blocks: list[Block] = []
    headings: list[str] = []
    heading: str | None = None
    title: str | None = None

    def emit(para: _Para) -> None:
        nonlocal heading, title
        if not para.text or para.toc:
            return
        if para.heading:
            heading = para.text
            headings.append(para.text)
            if title is None and para.style_name.lower() in _TITLE_NAMES:
                title = para.text
            return
        kind = "table" if para.style_name == "table" else ("list_item" if para.list_item else "body")
        blocks.append(Block(text=para.text, kind=kind, heading=heading))

    for kind, el in iter_block_elements(body):
        if kind == "p":
            para = reader.paragraph(el)
            emit(para)
            box_texts: set[str] = set()
            for box in para.boxes:
                # a box drawn twice in one paragraph outside mc:AlternateContent (DrawingML and
                # VML copies side by side) gives the same paragraphs twice: keep the first
                if box.text and box.text in box_texts:
                    continue
                box_texts.add(box.text)
                emit(box)
        else:
            for row in reader.table_rows(el):
                emit(_Para(text=row, style_name="table", heading=False, list_item=False,
                           toc=False, boxes=[]))
    if not blocks and headings:  # a document of headings only: keep its text
        blocks = [Block(text=h, kind="body") for h in headings]
    blocks.extend(_notes(document, "/footnotes", "footnote", reader))
    blocks.extend(_notes(document, "/endnotes", "endnote", reader))

    props = document.core_properties
    core_title = clean_text(props.title or "") or None
    author = clean_text(props.author or "") or None
    return RawDocument(
        file_type="docx", blocks=blocks, pages=None,
        title=title or core_title or (headings[0] if headings else None),
        author=author, headings=headings,
    )
