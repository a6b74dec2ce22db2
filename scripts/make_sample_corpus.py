#!/usr/bin/env python3
"""Regenerate the bundled sample corpus from its source texts.

    .venv/bin/python scripts/make_sample_corpus.py            # build corpus/raw + corpus/manifest.csv
    .venv/bin/python scripts/make_sample_corpus.py --force-pdf # re-export every PDF with LibreOffice
    .venv/bin/python scripts/make_sample_corpus.py --check     # rebuild in a temp dir, compare

Every contribution is one YAML file in scripts/sample_corpus/ (the organisations and people are
fictional; the texts were written by the project team). Each is rendered to a Word document with
python-docx; files named *.pdf are then exported from that Word document by LibreOffice
(`soffice --headless --convert-to pdf`), as a contributor who "saves as PDF" would.

The .docx files are byte-for-byte deterministic (fixed core-properties dates, fixed zip
timestamps). PDFs carry LibreOffice's own timestamps, so they are re-exported only when their
source document changed (hashes kept in scripts/sample_corpus/pdf-sources.json) or --force-pdf.

Source format (one YAML mapping per contribution):

    file: 2017-bpf-<org-slug>.docx|.pdf
    language: en|es|fr          (locale: en-US etc. to override the proofing language)
    manifest: {contributor, organisation, stakeholder_group}   # omit: not listed in the manifest
    properties: {title, author, last_modified_by, created, modified, revision, keywords}
    layout: {page, margins_cm, font, size, heading_font, heading_color, heading_sizes,
             line_spacing, space_after, justify, hyphenate, header, footer,
             different_first_page, header_rule, footer_rule, ...}
    blocks: a list of one-key mappings, in document order:
        title | subtitle | h1 | h2 | h3 | p | quote | bold_heading | spacer | page_break
        bullets: [item | [sub-items]]        numbered: {items, continue, style}
        typed_list: {marker, items}          table: {rows, header, widths_cm, font_size, style}
        columns: N  (continuous section break; following body set in N columns)
    footnotes: {n: text}
Inline markup in texts: **bold**, *italic*, [^n] (footnote n), [label](https://url).
Header/footer texts may hold {PAGE} and {NUMPAGES} fields, and a tab character (written \\t in
YAML double quotes) before a right-aligned part.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "sample_corpus"
PDF_LOCK = SOURCES / "pdf-sources.json"
DEFAULT_OUT = ROOT / "corpus" / "raw"
DEFAULT_MANIFEST = ROOT / "corpus" / "manifest.csv"
MANIFEST_COLUMNS = ["file", "contributor", "organisation", "stakeholder_group", "language"]
STAKEHOLDER_GROUPS = {"government", "intergovernmental", "private_sector", "civil_society",
                      "technical_community", "academia", "users"}
ZIP_DATE = (2017, 9, 15, 12, 0, 0)

ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
         "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
PAGE_SIZES = {"A4": (Cm(21.0), Cm(29.7)), "letter": (Cm(21.59), Cm(27.94))}
INLINE = re.compile(r"(\*\*.+?\*\*|\*[^*\s][^*]*?\*|\[\^\d+\]|\[[^\]]+\]\([^)\s]+\))")


# --------------------------------------------------------------------------------------------
# low-level OOXML helpers


# Child order of w:pPr in the schema (Word refuses files whose children are out of order).
PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
             "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
             "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
             "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
             "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
             "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"]


def ppr_insert(paragraph, el) -> None:
    """Insert a child into a paragraph's w:pPr at its schema position."""
    ppr = paragraph._p.get_or_add_pPr()
    rank = PPR_ORDER.index(el.tag.split("}")[1])
    for child in ppr:
        name = child.tag.split("}")[1]
        if name in PPR_ORDER and PPR_ORDER.index(name) > rank:
            child.addprevious(el)
            return
    ppr.append(el)


def _set_run_fonts(rpr_parent, name: str) -> None:
    """Set ascii/hAnsi/cs fonts on a style or run, dropping theme-font attributes that win."""
    rpr = rpr_parent.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), name)


def _add_field(paragraph, instr: str, placeholder: str = "1") -> None:
    """A complex field (PAGE, NUMPAGES) as Word writes it: begin, instrText, separate, end."""
    def fld(kind):
        r = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._r.append(el)
    fld("begin")
    r = paragraph.add_run()
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {instr} "
    r._r.append(it)
    fld("separate")
    paragraph.add_run(placeholder)
    fld("end")


def _add_hyperlink(paragraph, label: str, url: str) -> None:
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(color)
    rpr.append(underline)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = label
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _add_footnote_reference(paragraph, note_id: int) -> None:
    run = paragraph.add_run()
    rpr = run._r.get_or_add_rPr()
    rstyle = OxmlElement("w:rStyle")
    rstyle.set(qn("w:val"), "FootnoteReference")
    rpr.insert(0, rstyle)
    ref = OxmlElement("w:footnoteReference")
    ref.set(qn("w:id"), str(note_id))
    run._r.append(ref)


def add_inline(paragraph, text: str, footnotes_used: list[int] | None = None,
               allow_notes: bool = True, allow_links: bool = True) -> None:
    """Append marked-up text to a paragraph as runs (bold, italic, links, footnote refs)."""
    if not isinstance(text, str):  # e.g. an unquoted "a: b" list item that YAML read as a map
        raise ValueError(f"expected text, got {type(text).__name__}: {text!r:.80}")
    for token in INLINE.split(text):
        if not token:
            continue
        if token.startswith("[^") and token.endswith("]"):
            if not allow_notes:
                raise ValueError(f"footnote reference not allowed here: {text[:60]!r}")
            n = int(token[2:-1])
            _add_footnote_reference(paragraph, n)
            if footnotes_used is not None:
                footnotes_used.append(n)
        elif token.startswith("**") and token.endswith("**") and len(token) > 4:
            paragraph.add_run(token[2:-2]).bold = True
        elif token.startswith("*") and token.endswith("*") and len(token) > 2:
            paragraph.add_run(token[1:-1]).italic = True
        elif token.startswith("[") and "](" in token and token.endswith(")"):
            if not allow_links:  # the link relationship would belong to another part
                raise ValueError(f"write plain URLs in footnotes/headers: {text[:60]!r}")
            label, url = token[1:-1].split("](", 1)
            _add_hyperlink(paragraph, label, url)
        else:
            paragraph.add_run(token)


FOOTNOTE_STYLES = """
<w:styles %s>
  <w:style w:type="paragraph" w:styleId="FootnoteText">
    <w:name w:val="footnote text"/>
    <w:basedOn w:val="Normal"/>
    <w:link w:val="FootnoteTextChar"/>
    <w:uiPriority w:val="99"/>
    <w:unhideWhenUsed/>
    <w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
    <w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr>
  </w:style>
  <w:style w:type="character" w:customStyle="1" w:styleId="FootnoteTextChar">
    <w:name w:val="Footnote Text Char"/>
    <w:basedOn w:val="DefaultParagraphFont"/>
    <w:link w:val="FootnoteText"/>
    <w:uiPriority w:val="99"/>
    <w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr>
  </w:style>
  <w:style w:type="character" w:styleId="FootnoteReference">
    <w:name w:val="footnote reference"/>
    <w:basedOn w:val="DefaultParagraphFont"/>
    <w:uiPriority w:val="99"/>
    <w:unhideWhenUsed/>
    <w:rPr><w:vertAlign w:val="superscript"/></w:rPr>
  </w:style>
</w:styles>
""" % nsdecls("w")


def add_footnotes_part(doc, notes: dict[int, str]) -> None:
    """Write word/footnotes.xml (python-docx has no footnote API) with Word's two separators."""
    styles_el = doc.styles.element
    for style in parse_xml(FOOTNOTE_STYLES):
        styles_el.append(copy.deepcopy(style))

    root = parse_xml(
        f'<w:footnotes {nsdecls("w", "r")}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" '
        'w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing '
        'w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/>'
        "</w:r></w:p></w:footnote></w:footnotes>"
    )
    # Build each note with python-docx's Paragraph API on a detached w:p (runs only: footnote
    # texts carry plain URLs, since a hyperlink's relationship would live in footnotes.xml.rels).
    from docx.text.paragraph import Paragraph

    for n in sorted(notes):
        note = OxmlElement("w:footnote")
        note.set(qn("w:id"), str(n))
        p_el = OxmlElement("w:p")
        ppr = OxmlElement("w:pPr")
        pstyle = OxmlElement("w:pStyle")
        pstyle.set(qn("w:val"), "FootnoteText")
        ppr.append(pstyle)
        p_el.append(ppr)
        para = Paragraph(p_el, doc._body)
        ref_run = para.add_run()
        rpr = ref_run._r.get_or_add_rPr()
        rstyle = OxmlElement("w:rStyle")
        rstyle.set(qn("w:val"), "FootnoteReference")
        rpr.append(rstyle)
        ref_run._r.append(OxmlElement("w:footnoteRef"))
        para.add_run(" ")
        add_inline(para, str(notes[n]).strip(), allow_notes=False, allow_links=False)
        note.append(p_el)
        root.append(note)

    from lxml import etree

    blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, blob, doc.part.package)
    doc.part.relate_to(part, RT.FOOTNOTES)

    # settings.xml: footnotePr naming the separators, before w:compat as the schema orders it.
    settings = doc.settings.element
    fpr = parse_xml(f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/>'
                    '<w:footnote w:id="0"/></w:footnotePr>')
    compat = settings.find(qn("w:compat"))
    if compat is not None:
        compat.addprevious(fpr)
    else:
        settings.append(fpr)


# --------------------------------------------------------------------------------------------
# document building


class Builder:
    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.layout = spec.get("layout", {}) or {}
        self.doc = Document()
        self.footnotes_used: list[int] = []
        self.ncols = 1
        self._drop_thumbnail()
        self._styles()
        self._page(self.doc.sections[0])

    # -- package hygiene: a Word file carries no python-docx thumbnail
    def _drop_thumbnail(self) -> None:
        pkg = self.doc.part.package
        for r_id, rel in list(pkg.rels.items()):
            if rel.reltype == RT.THUMBNAIL:
                del pkg.rels[r_id]

    def _styles(self) -> None:
        lay = self.layout
        styles = self.doc.styles
        font = lay.get("font", "Calibri")
        normal = styles["Normal"]
        _set_run_fonts(normal.element, font)
        normal.font.size = Pt(lay.get("size", 11))
        pf = normal.paragraph_format
        pf.space_after = Pt(lay.get("space_after", 6))
        if lay.get("line_spacing"):
            pf.line_spacing = lay["line_spacing"]
        if lay.get("justify"):
            pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        hfont = lay.get("heading_font", font)
        hcolor = lay.get("heading_color")
        sizes = lay.get("heading_sizes", [14, 12, 11])
        for level, size in zip((1, 2, 3), sizes):
            st = styles[f"Heading {level}"]
            _set_run_fonts(st.element, hfont)
            st.font.size = Pt(size)
            st.font.bold = True
            st.font.italic = level == 3 and lay.get("h3_italic", False)
            st.font.color.rgb = RGBColor.from_string(hcolor) if hcolor else RGBColor(0, 0, 0)
            st.paragraph_format.space_before = Pt(lay.get("heading_space_before", 12))
            st.paragraph_format.space_after = Pt(4)
        for name in ("Title", "Subtitle"):
            st = styles[name]
            _set_run_fonts(st.element, hfont)
            if hcolor:
                st.font.color.rgb = RGBColor.from_string(hcolor)
        styles["Title"].font.size = Pt(lay.get("title_size", 20))
        styles["Subtitle"].font.size = Pt(lay.get("subtitle_size", 13))
        for name in ("Header", "Footer"):
            st = styles[name]
            _set_run_fonts(st.element, font)
            st.font.size = Pt(lay.get("header_size", 8.5))
        for name in ("List Bullet", "List Bullet 2", "List Number", "List Number 2"):
            styles[name].paragraph_format.space_after = Pt(lay.get("list_space_after", 3))

    def _page(self, section) -> None:
        lay = self.layout
        w, h = PAGE_SIZES[lay.get("page", "A4")]
        section.page_width, section.page_height = w, h
        top, right, bottom, left = lay.get("margins_cm", [2.5, 2.5, 2.5, 2.5])
        section.top_margin, section.right_margin = Cm(top), Cm(right)
        section.bottom_margin, section.left_margin = Cm(bottom), Cm(left)
        section.header_distance = Cm(1.25)
        section.footer_distance = Cm(1.25)

    # -- headers and footers
    def _hf_paragraph(self, paragraph, text: str, align: str | None) -> None:
        parts = text.split("\t")
        if len(parts) > 1:
            # left text, then right-aligned text on a right tab at the text width; the Header
            # and Footer styles' own centre/right tabs (Letter widths) are cleared first
            sec = self.doc.sections[0]
            width = int((sec.page_width - sec.left_margin - sec.right_margin) / 635)  # twips
            tabs = OxmlElement("w:tabs")
            for val, pos in (("clear", 4680), ("clear", 9360), ("right", width)):
                tab = OxmlElement("w:tab")
                tab.set(qn("w:val"), val)
                tab.set(qn("w:pos"), str(pos))
                tabs.append(tab)
            ppr_insert(paragraph, tabs)
        for i, part in enumerate(parts):
            if i:
                paragraph.add_run("\t")
            for tok in re.split(r"(\{PAGE\}|\{NUMPAGES\})", part):
                if tok == "{PAGE}":
                    _add_field(paragraph, "PAGE")
                elif tok == "{NUMPAGES}":
                    _add_field(paragraph, "NUMPAGES", "3")
                elif tok:
                    add_inline(paragraph, tok, allow_notes=False, allow_links=False)
        if align:
            paragraph.alignment = ALIGN[align]

    def _header_footer(self) -> None:
        lay = self.layout
        sec = self.doc.sections[0]
        if lay.get("different_first_page"):
            sec.different_first_page_header_footer = True
        for key, hf in (("header", sec.header), ("footer", sec.footer)):
            spec = lay.get(key)
            if not spec:
                continue
            lines = spec if isinstance(spec, list) else [spec]
            first = True
            for line in lines:
                if isinstance(line, str):
                    line = {"text": line}
                para = hf.paragraphs[0] if first else hf.add_paragraph()
                first = False
                self._hf_paragraph(para, line["text"], line.get("align", lay.get(f"{key}_align")))
                if line.get("italic"):
                    for r in para.runs:
                        r.italic = True
            if key == "header" and lay.get("header_rule"):
                self._bottom_border(hf.paragraphs[-1])
            if key == "footer" and lay.get("footer_rule"):
                self._top_border(hf.paragraphs[0])

    @staticmethod
    def _border(paragraph, side: str) -> None:
        bdr = OxmlElement("w:pBdr")
        el = OxmlElement(f"w:{side}")
        for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", "808080")):
            el.set(qn(k), v)
        bdr.append(el)
        ppr_insert(paragraph, bdr)

    def _bottom_border(self, paragraph) -> None:
        self._border(paragraph, "bottom")

    def _top_border(self, paragraph) -> None:
        self._border(paragraph, "top")

    # -- numbering: a fresh w:num over the List Number definition restarts at 1
    def _new_num(self, style_name: str) -> int:
        numbering = self.doc.part.numbering_part.element
        style = self.doc.styles[style_name]
        num_id = int(style.element.pPr.numPr.numId.val)
        abstract = None
        for num in numbering.findall(qn("w:num")):
            if int(num.get(qn("w:numId"))) == num_id:
                abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
        new_id = max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))) + 1
        num = parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{new_id}"><w:abstractNumId w:val="{abstract}"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        )
        numbering.append(num)
        return new_id

    @staticmethod
    def _set_num(paragraph, num_id: int, level: int = 0) -> None:
        numpr = OxmlElement("w:numPr")
        ilvl = OxmlElement("w:ilvl")
        ilvl.set(qn("w:val"), str(level))
        nid = OxmlElement("w:numId")
        nid.set(qn("w:val"), str(num_id))
        numpr.append(ilvl)
        numpr.append(nid)
        ppr_insert(paragraph, numpr)

    def para(self, text: str = "", style: str | None = None, align: str | None = None,
             bold: bool = False, italic: bool = False, size: float | None = None,
             space_after: float | None = None, keep_with_next: bool = False):
        p = self.doc.add_paragraph(style=style)
        if text:
            add_inline(p, text, self.footnotes_used)
        if bold or italic or size:
            for r in p.runs:
                if bold:
                    r.bold = True
                if italic:
                    r.italic = True
                if size:
                    r.font.size = Pt(size)
        if align:
            p.alignment = ALIGN[align]
            if align == "center":  # nobody hyphenates a title
                ppr_insert(p, OxmlElement("w:suppressAutoHyphens"))
        if space_after is not None:
            p.paragraph_format.space_after = Pt(space_after)
        if keep_with_next:
            p.paragraph_format.keep_with_next = True
        return p

    def table(self, spec: dict[str, Any]) -> None:
        rows = spec["rows"]
        ncols = max(len(r) for r in rows)
        t = self.doc.add_table(rows=len(rows), cols=ncols)
        t.style = self.doc.styles[spec.get("style", "Table Grid")]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        fsize = Pt(spec.get("font_size", 9.5))
        header = spec.get("header", True)
        widths = spec.get("widths_cm")
        if not widths:  # share the text width (of one column, in a multi-column section)
            sec = self.doc.sections[-1]
            text_w = (sec.page_width - sec.left_margin - sec.right_margin) / 360000  # cm
            text_w = (text_w - (self.ncols - 1) * 0.8) / self.ncols
            widths = [round(text_w / ncols, 2)] * ncols
        for i, row in enumerate(rows):
            for j in range(ncols):
                cell = t.cell(i, j)
                value = row[j] if j < len(row) else ""
                lines = value if isinstance(value, list) else [value]
                cp = cell.paragraphs[0]
                for k, line in enumerate(lines):
                    p = cp if k == 0 else cell.add_paragraph()
                    add_inline(p, str(line), self.footnotes_used)
                    p.paragraph_format.space_after = Pt(2)
                    p.alignment = ALIGN[spec.get("align", "left")]
                    for r in p.runs:
                        r.font.size = fsize
                        if header and i == 0:
                            r.bold = True
                if header and i == 0 and spec.get("shade", "D9E2F3"):
                    tcpr = cell._tc.get_or_add_tcPr()
                    shd = OxmlElement("w:shd")
                    shd.set(qn("w:val"), "clear")
                    shd.set(qn("w:color"), "auto")
                    shd.set(qn("w:fill"), spec.get("shade", "D9E2F3"))
                    tcpr.append(shd)
                cell.width = Cm(widths[j])
        t.autofit = False
        for j, col in enumerate(t.columns):
            col.width = Cm(widths[j])
        if header:
            trpr = t.rows[0]._tr.get_or_add_trPr()
            trpr.append(OxmlElement("w:tblHeader"))
        if spec.get("caption"):
            self.para(spec["caption"], italic=True, size=9, space_after=10)
        else:
            self.para("", space_after=4)  # Word always leaves a paragraph after a table

    def columns(self, n: int, space_cm: float = 0.8) -> None:
        new = self.doc.add_section(WD_SECTION.CONTINUOUS)
        sect = new._sectPr
        cols = sect.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            # w:cols comes after w:pgMar/w:pgSz and before w:docGrid in CT_SectPr
            docgrid = sect.find(qn("w:docGrid"))
            if docgrid is not None:
                docgrid.addprevious(cols)
            else:
                sect.append(cols)
        cols.set(qn("w:num"), str(n))
        self.ncols = n
        cols.set(qn("w:space"), str(int(space_cm * 567)))

    def build(self) -> bytes:
        lay = self.layout
        for block in self.spec["blocks"]:
            if isinstance(block, str):
                block = {"p": block}
            (kind, val), = block.items()
            if kind == "title":
                self.para(val, style="Title")
            elif kind == "subtitle":
                self.para(val, style="Subtitle")
            elif kind in ("h1", "h2", "h3"):
                self.para(val, style=f"Heading {kind[1]}")
            elif kind == "p":
                if isinstance(val, dict):
                    self.para(val.get("text", ""), style=val.get("style"), align=val.get("align"),
                              bold=val.get("bold", False), italic=val.get("italic", False),
                              size=val.get("size"), space_after=val.get("space_after"))
                else:
                    self.para(val)
            elif kind == "bold_heading":
                self.para(val, bold=True, keep_with_next=True,
                          size=lay.get("bold_heading_size"), space_after=3)
            elif kind == "quote":
                self.para(val, style="Quote")
            elif kind == "spacer":
                for _ in range(int(val or 1)):
                    self.para("")
            elif kind == "page_break":
                self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            elif kind == "bullets":
                items = val["items"] if isinstance(val, dict) else val
                for item in items:
                    if isinstance(item, list):
                        for sub in item:
                            self.para(sub, style="List Bullet 2")
                    else:
                        self.para(item, style="List Bullet")
            elif kind == "numbered":
                items = val["items"] if isinstance(val, dict) else val
                opts = val if isinstance(val, dict) else {}
                style = opts.get("style", "List Number")
                num_id = None if opts.get("continue") else self._new_num(style)
                for item in items:
                    if isinstance(item, list):
                        for sub in item:
                            self.para(sub, style="List Bullet 2")
                        continue
                    p = self.para(item, style=style)
                    if num_id is not None:
                        self._set_num(p, num_id)
            elif kind == "typed_list":
                marker = val.get("marker", "-")
                for i, item in enumerate(val["items"], 1):
                    m = marker.replace("{n}", str(i))
                    self.para(f"{m} {item}" if m else item,
                              space_after=val.get("space_after", 2))
            elif kind == "table":
                self.table(val)
            elif kind == "columns":
                self.columns(int(val))
            else:
                raise ValueError(f"{self.spec['file']}: unknown block kind {kind!r}")

        notes = {int(k): v for k, v in (self.spec.get("footnotes") or {}).items()}
        if sorted(set(self.footnotes_used)) != sorted(notes):
            raise ValueError(f"{self.spec['file']}: footnote references {sorted(self.footnotes_used)}"
                             f" do not match footnotes {sorted(notes)}")
        if notes:
            add_footnotes_part(self.doc, notes)
        # page setup for every section (add_section copies, but be explicit)
        for sec in self.doc.sections:
            self._page(sec)
        self._header_footer()
        self._properties()
        if lay.get("hyphenate"):
            # automatic hyphenation, as a contributor with narrow columns switches on (needs
            # LibreOffice's hyphenation patterns for the language, e.g. Debian hyphen-en-us)
            settings = self.doc.settings.element
            auto = OxmlElement("w:autoHyphenation")
            tab = settings.find(qn("w:defaultTabStop"))
            if tab is not None:
                tab.addnext(auto)
            else:
                settings.insert(0, auto)
        buf = io.BytesIO()
        self.doc.save(buf)
        return normalise_zip(buf.getvalue())

    def _properties(self) -> None:
        props = self.spec.get("properties", {}) or {}
        cp = self.doc.core_properties
        created = _date(props.get("created", "2017-09-14T09:00:00Z"))
        cp.title = props.get("title", "")
        cp.subject = props.get("subject", "")
        cp.author = props.get("author", "")
        cp.last_modified_by = props.get("last_modified_by", props.get("author", ""))
        cp.created = created
        cp.modified = _date(props.get("modified")) if props.get("modified") else created
        cp.revision = int(props.get("revision", 1))
        cp.comments = ""
        cp.keywords = props.get("keywords", "")
        cp.category = ""
        # document language for the proofing tools (and LibreOffice's hyphenation)
        lang = self.spec.get("locale") or {"en": "en-GB", "es": "es-ES", "fr": "fr-FR"}[
            self.spec.get("language", "en")]
        cp.language = lang
        rpr_default = self.doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
        rpr = rpr_default.find(qn("w:rPr"))
        lang_el = rpr.find(qn("w:lang"))
        if lang_el is None:
            lang_el = OxmlElement("w:lang")
            rpr.append(lang_el)
        lang_el.set(qn("w:val"), lang)


def _date(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.strptime(str(value).replace("Z", ""), "%Y-%m-%dT%H:%M:%S")


def normalise_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed member timestamps so a rebuild gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# PDF export with LibreOffice


def soffice_to_pdf(docx_bytes: bytes, name: str, workdir: Path) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("LibreOffice (soffice) is needed to export the PDF contributions")
    src = workdir / (Path(name).stem + ".docx")
    src.write_bytes(docx_bytes)
    profile = workdir / "lo-profile"
    cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(workdir), str(src)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    pdf = workdir / (Path(name).stem + ".pdf")
    if res.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"soffice failed for {name}: {res.stdout}\n{res.stderr}")
    return pdf.read_bytes()


# --------------------------------------------------------------------------------------------


def load_specs(only: list[str] | None = None) -> list[dict[str, Any]]:
    specs = []
    for path in sorted(SOURCES.glob("*.yaml")):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SystemExit(f"{path.name}: {exc}") from exc
        spec["_source"] = path.name
        if only and spec["file"] not in only and path.stem not in only:
            continue
        specs.append(spec)
    names = [s["file"] for s in specs]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate output file names in scripts/sample_corpus")
    return specs


def write_manifest(specs: list[dict[str, Any]], path: Path) -> None:
    rows = []
    for spec in specs:
        m = spec.get("manifest")
        if not m:
            continue
        if m["stakeholder_group"] not in STAKEHOLDER_GROUPS:
            raise SystemExit(f"{spec['file']}: bad stakeholder_group {m['stakeholder_group']!r}")
        rows.append({"file": spec["file"], "contributor": m["contributor"],
                     "organisation": m.get("organisation", ""),
                     "stakeholder_group": m["stakeholder_group"],
                     "language": spec.get("language", "en")})
    rows.sort(key=lambda r: r["file"])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def build(out: Path, manifest: Path, force_pdf: bool, only: list[str] | None,
          use_lock: bool = True) -> dict[str, str]:
    specs = load_specs(only)
    out.mkdir(parents=True, exist_ok=True)
    lock = json.loads(PDF_LOCK.read_text()) if (use_lock and PDF_LOCK.exists()) else {}
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cenb-corpus-") as tmp:
        tmpdir = Path(tmp)
        for spec in specs:
            name = spec["file"]
            docx_bytes = Builder(spec).build()
            src_hash = hashlib.sha256(docx_bytes).hexdigest()
            target = out / name
            if name.endswith(".docx"):
                target.write_bytes(docx_bytes)
                status = "docx"
            elif name.endswith(".pdf"):
                if not force_pdf and target.exists() and lock.get(name) == src_hash:
                    status = "pdf (unchanged, kept)"
                else:
                    target.write_bytes(soffice_to_pdf(docx_bytes, name, tmpdir))
                    status = "pdf (exported)"
                lock[name] = src_hash
            else:
                raise SystemExit(f"{name}: only .docx and .pdf outputs are made")
            digests[name] = src_hash
            print(f"  {name:58s} {target.stat().st_size:>8,d} B  {status}")
    if only is None:
        write_manifest(specs, manifest)
        print(f"  {manifest.relative_to(ROOT) if manifest.is_relative_to(ROOT) else manifest}")
        # drop files the sources no longer describe
        expected = {s["file"] for s in specs}
        for f in out.iterdir():
            if f.is_file() and f.name not in expected:
                print(f"  removing stale {f.name}")
                f.unlink()
        lock = {k: v for k, v in lock.items() if k in expected}
    if use_lock:
        PDF_LOCK.write_text(json.dumps(dict(sorted(lock.items())), indent=2) + "\n")
    return digests


def check() -> int:
    """Rebuild the Word files and the manifest in a temp dir and compare with the committed ones."""
    bad = 0
    with tempfile.TemporaryDirectory(prefix="cenb-corpus-check-") as tmp:
        tmp_out, tmp_manifest = Path(tmp) / "raw", Path(tmp) / "manifest.csv"
        specs = load_specs()
        tmp_out.mkdir()
        for spec in specs:
            name = spec["file"]
            data = Builder(spec).build()
            if name.endswith(".docx"):
                same = (DEFAULT_OUT / name).exists() and (DEFAULT_OUT / name).read_bytes() == data
            else:
                lock = json.loads(PDF_LOCK.read_text()) if PDF_LOCK.exists() else {}
                same = (DEFAULT_OUT / name).exists() and \
                    lock.get(name) == hashlib.sha256(data).hexdigest()
            print(f"  {'ok  ' if same else 'DIFF'} {name}")
            bad += not same
        write_manifest(specs, tmp_manifest)
        same = DEFAULT_MANIFEST.exists() and \
            DEFAULT_MANIFEST.read_bytes() == tmp_manifest.read_bytes()
        print(f"  {'ok  ' if same else 'DIFF'} manifest.csv")
        bad += not same
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--manifest", type=Path, default=None,
                    help="default: corpus/manifest.csv, or manifest.csv beside --out")
    ap.add_argument("--force-pdf", action="store_true", help="re-export every PDF")
    ap.add_argument("--only", nargs="+", help="build only these files (no manifest)")
    ap.add_argument("--check", action="store_true",
                    help="verify the committed corpus matches its sources; build nothing")
    args = ap.parse_args(argv)
    if args.check:
        return check()
    out = args.out.resolve()
    manifest = args.manifest or (DEFAULT_MANIFEST if out == DEFAULT_OUT else out.parent / "manifest.csv")
    print(f"Building the sample corpus into {out}")
    build(out, manifest.resolve(), args.force_pdf, args.only, use_lock=out == DEFAULT_OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
