"""HTML -> blocks with lxml: visible text only, headings as context, list items and table rows
marked. Scripts, styles, navigation and the document head are not read."""

from __future__ import annotations

from pathlib import Path

from lxml import etree, html

from pipeline.errors import ExtractionError
from pipeline.extract.clean import clean_text
from pipeline.extract.model import Block, RawDocument
from pipeline.extract.text import decode_text

_SKIP = {"script", "style", "noscript", "template", "head", "nav", "svg", "math", "button",
         "select", "iframe", "object"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LEAF_BLOCKS = {"p", "li", "blockquote", "pre", "dt", "dd", "caption", "figcaption",
                "address", "summary"}
_BLOCKS = _LEAF_BLOCKS | _HEADINGS | {
    "div", "section", "article", "main", "body", "ul", "ol", "dl", "table", "thead", "tbody",
    "tfoot", "tr", "td", "th", "header", "footer", "aside", "form", "fieldset", "figure",
    "details", "hr", "br"}


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[str] = []
        self.heading: str | None = None
        self.loose: list[str] = []
        self.in_list = 0

    def flush(self) -> None:
        text = clean_text(" ".join(self.loose))
        self.loose = []
        if text:
            self.blocks.append(Block(text=text, heading=self.heading))

    def text_of(self, el) -> str:
        parts: list[str] = []

        def rec(e) -> None:
            if not isinstance(e.tag, str) or e.tag in _SKIP:
                if e.tail:
                    parts.append(e.tail)
                return
            if e.tag == "br":
                parts.append(" ")
            if e.text:
                parts.append(e.text)
            for c in e:
                rec(c)
            if e.tail and e is not el:
                parts.append(e.tail)

        rec(el)
        return clean_text("".join(parts))

    def walk(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            return
        if tag in _HEADINGS:
            self.flush()
            text = self.text_of(el)
            if text:
                self.heading = text
                self.headings.append(text)
        elif tag == "tr":
            self.flush()
            cells = [self.text_of(c) for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")]
            row = " | ".join(c for c in cells if c)
            if row:
                self.blocks.append(Block(text=row, kind="table", heading=self.heading))
        elif tag in _LEAF_BLOCKS and not any(
            isinstance(d.tag, str) and d.tag in _BLOCKS - {"br"} for d in el.iterdescendants()
        ):
            self.flush()
            text = self.text_of(el)
            if text:
                kind = "list_item" if tag == "li" or self.in_list else "body"
                self.blocks.append(Block(text=text, kind=kind, heading=self.heading))
        else:
            self.in_list += tag == "li"
            if el.text:
                self.loose.append(el.text)
            for child in el:
                ctag = child.tag if isinstance(child.tag, str) else ""
                if ctag in _BLOCKS:
                    self.flush()
                    self.walk(child)
                    self.flush()
                elif ctag in _SKIP:
                    pass
                else:  # inline element: its text belongs to the loose run
                    self.loose.append(self.text_of(child))
                if child.tail:
                    self.loose.append(child.tail)
            self.in_list -= tag == "li"
        if tag in _BLOCKS:
            self.flush()


def extract_html(path: Path) -> RawDocument:
    data = path.read_bytes()
    try:
        root = html.document_fromstring(decode_text(data))
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(
            "corrupt", f"The HTML page cannot be parsed ({exc}). Ask the contributor for a .docx "
            "or PDF version.") from None
    title_el = root.find(".//title")
    title = clean_text(title_el.text_content()) if title_el is not None else None
    body = root.find("body")
    walker = _Walker()
    walker.walk(body if body is not None else root)
    walker.flush()
    return RawDocument(file_type="html", blocks=walker.blocks, headings=walker.headings,
                       title=title or (walker.headings[0] if walker.headings else None))
