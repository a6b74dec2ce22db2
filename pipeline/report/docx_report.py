"""report.docx: the secretariat's editable draft, in the form of the 2017 output document.

Title and introduction, then for each challenge (CENB a-j, then the additional areas) a heading
and the candidate policy options as numbered items (numbering restarts per area), attributed
with real Word footnotes ("Contribution of <contributor>"), like the 2017 document's "BPF
contribution ..." footnotes. Other contributors' own wordings of the same option follow as
sub-items, each with its own footnote, so the secretariat can consolidate them.

python-docx has no footnote API: the footnotes part (word/footnotes.xml with the separator and
continuation-separator notes Word expects), its relationship and content type, the Footnote
Text / Footnote Reference styles and the w:footnoteReference runs are added with its OPC and
lxml layers here.
"""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from docx import Document as new_document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from pipeline.report.areas import AREAS
from pipeline.report.grouping import GroupingResult, OptionGroup
from pipeline.report.model import ReportInput

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MAX_VARIANTS = 4

_FOOTNOTES_XML = (
    f'<w:footnotes xmlns:w="{W_NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" '
    'w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p>'
    '</w:footnote></w:footnotes>'
)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


def _clean(text: str) -> str:
    """Text as Word can store it: XML-illegal control characters (all but tab and newline)
    removed."""
    return _CONTROL.sub("", text)


def add_text(paragraph: Paragraph, text: str) -> None:
    """paragraph.add_run(text): python-docx walks the text character by character for tabs and
    line breaks, which took 0.3-0.5 s of the 8,000 items at 3,000 contributions; text without
    them becomes the same single w:t at once."""
    if not text or "\t" in text or "\n" in text or "\r" in text:
        paragraph.add_run(text)
    else:
        paragraph._p.add_r().add_t(text)


class Footnotes:
    """The document's footnotes part; add() appends a note and returns its id."""

    def __init__(self, document: Any) -> None:
        self.document = document
        part = document.part
        for rel in part.rels.values():
            if rel.reltype == RT.FOOTNOTES:
                self.part = rel.target_part
                self.element = self.part.element if hasattr(self.part, "element") else \
                    parse_xml(self.part.blob)
                break
        else:
            element = parse_xml(_FOOTNOTES_XML)
            self.part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, element,
                                part.package)
            part.relate_to(self.part, RT.FOOTNOTES)
            self.element = element
        self._next = 1 + max([int(fn.get(qn("w:id"))) for fn in
                              self.element.findall(qn("w:footnote"))] + [0])
        self._ensure_styles()

    def _ensure_styles(self) -> None:
        styles = self.document.styles
        names = {s.name for s in styles}
        if "Footnote Text" not in names:
            st = styles.add_style("Footnote Text", WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = styles["Normal"]
            st.font.size = Pt(9)
            st.paragraph_format.space_after = Pt(0)
        if "Footnote Reference" not in names:
            st = styles.add_style("Footnote Reference", WD_STYLE_TYPE.CHARACTER)
            st.font.superscript = True

    # a note and its reference mark, parsed once and copied for each footnote (5,300 of them
    # at 3,000 contributions: parsing each took 0.2 s of every run)
    _NOTE = parse_xml(
        f'<w:footnote xmlns:w="{W_NS}" w:id="0"><w:p><w:pPr>'
        '<w:pStyle w:val="FootnoteText"/></w:pPr><w:r><w:rPr>'
        '<w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
        '<w:r><w:t xml:space="preserve"> </w:t></w:r></w:p></w:footnote>')
    _REF = parse_xml(
        f'<w:r xmlns:w="{W_NS}"><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>'
        '<w:footnoteReference w:id="0"/></w:r>')

    def add(self, paragraph: Any, text: str) -> int:
        """Append footnote `text` and put its reference mark at the end of `paragraph`."""
        fid = self._next
        self._next += 1
        note = deepcopy(self._NOTE)
        note.set(qn("w:id"), str(fid))
        note.findall(".//" + qn("w:t"))[-1].text = " " + _clean(text)
        self.element.append(note)
        ref = deepcopy(self._REF)
        ref.find(qn("w:footnoteReference")).set(qn("w:id"), str(fid))
        paragraph._p.append(ref)
        return fid


class Numbering:
    """Restartable "List Number" numbering: one w:num per area, all on the style's list."""

    def __init__(self, document: Any) -> None:
        self.numbering = document.part.numbering_part.element
        style = document.styles["List Number"]
        num_pr = style.element.pPr.find(qn("w:numPr"))
        base_num = int(num_pr.find(qn("w:numId")).get(qn("w:val")))
        self.abstract_id = None
        for num in self.numbering.findall(qn("w:num")):
            if int(num.get(qn("w:numId"))) == base_num:
                self.abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
        self._next = 1 + max(int(n.get(qn("w:numId")))
                             for n in self.numbering.findall(qn("w:num")))

    def new_list(self) -> int:
        nid = self._next
        self._next += 1
        num = parse_xml(
            f'<w:num xmlns:w="{W_NS}" w:numId="{nid}"><w:abstractNumId w:val="{self.abstract_id}"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>')
        self.numbering.append(num)
        return nid


@lru_cache(maxsize=65536)   # every footnote names its contributors: 130,000 calls at 3,000
def contribution_of(contributor: str, organisation: str | None = None) -> str:
    """'Contribution of <contributor>', with the organisation when it says more."""
    text = f"Contribution of {contributor}"
    if organisation and organisation.strip() and organisation.strip() != contributor.strip():
        text += f" ({organisation.strip()})"
    return text


def attribution(pairs: Sequence[tuple[str, str | None]]) -> str:
    """The footnote of one item: every supporting contribution, as the 2017 document did."""
    return "; ".join(contribution_of(c, o) for c, o in pairs) + "."


def _variants(group: OptionGroup) -> list[Any]:
    """One other wording per other contributor (their first sentence), at most MAX_VARIANTS."""
    seen = {group.representative.quote.contributor}
    out = []
    for m in group.ordered_members[1:]:   # by contributor, then location
        if m.quote.contributor in seen:
            continue
        seen.add(m.quote.contributor)
        out.append(m)
        if len(out) >= MAX_VARIANTS:
            break
    return out


def write_docx(path: Path, inp: ReportInput, grouping: GroupingResult, title: str,
               generated_at: str | None = None) -> Path:
    doc = new_document()
    footnotes = Footnotes(doc)
    numbering = Numbering(doc)
    generated_at = generated_at or datetime.now().strftime("%d %B %Y")
    n_contrib = len(inp.documents)
    by_area = grouping.by_challenge()

    doc.add_heading(_clean(title), level=0)
    sub = doc.add_paragraph(f"Draft for the secretariat, generated {generated_at}. "
                            "Candidate wording is taken verbatim from the contributions; "
                            "edit and consolidate before publication.")
    sub.runs[0].italic = True
    sub.runs[0].font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    doc.add_heading("Introduction", level=1)
    doc.add_paragraph(
        f"The Best Practice Forum received {n_contrib} written contribution"
        f"{'s' if n_contrib != 1 else ''} in response to its call for input. This draft lists, "
        "for each of the cybersecurity challenges identified from the CENB policy options and "
        "for the additional policy areas raised by contributors, the policy options the "
        "contributions propose. Suggestions made in similar terms by several contributors are "
        "listed once; the footnotes name every contribution that proposed them.")
    doc.add_paragraph(
        "The list is a non-exhaustive set of policy suggestions, intended to inspire policy "
        "decision makers by providing different ways to face and tackle cybersecurity "
        "challenges.")

    # Style ids resolved once: python-docx looks a style name up across the whole styles part
    # on every add_paragraph(style=...), which dominated writing at thousands of items.
    list_number = doc.styles["List Number"].style_id
    list_bullet_2 = doc.styles["List Bullet 2"].style_id
    list_bullet = doc.styles["List Bullet"].style_id

    # Items are inserted before the body's final w:sectPr directly: Document.add_paragraph()
    # finds that sectPr by scanning every paragraph already in the body, which made writing
    # thousands of items quadratic (3 s at 3,000 contributions).
    body = doc.element.body
    sect_pr = body.sectPr

    def styled_paragraph(style_id: str, num_id: int | None = None) -> Any:
        num_pr = "" if num_id is None else (f'<w:numPr><w:ilvl w:val="0"/>'
                                            f'<w:numId w:val="{num_id}"/></w:numPr>')
        p = parse_xml(f'<w:p xmlns:w="{W_NS}"><w:pPr><w:pStyle w:val="{style_id}"/>'
                      f'{num_pr}</w:pPr></w:p>')
        if sect_pr is not None:
            sect_pr.addprevious(p)
        else:
            body.append(p)
        return Paragraph(p, doc._body)

    def area_section(area: Any, level: int) -> None:
        doc.add_heading(_clean(area.heading), level=level)
        groups = by_area[area.key]
        if not groups:
            p = doc.add_paragraph("No policy option for this area was found in the "
                                  "contributions.")
            p.runs[0].italic = True
            return
        num_id = numbering.new_list()
        for g in groups:
            item = styled_paragraph(list_number, num_id)
            add_text(item, _clean(g.representative.quote.text))
            footnotes.add(item, attribution(g.attributions))
            for m in _variants(g):
                sub = styled_paragraph(list_bullet_2)
                add_text(sub, "Also: “" + _clean(m.quote.text) + "”")
                footnotes.add(sub, attribution([(m.quote.contributor,
                                                 m.cp.para.organisation)]))

    doc.add_heading("Policy options to help address the CENB cybersecurity challenges", level=1)
    for area in AREAS:
        if area.is_cenb:
            area_section(area, 2)
    doc.add_heading("Additional policy areas raised in individual contributions", level=1)
    for area in AREAS:
        if not area.is_cenb:
            area_section(area, 2)

    doc.add_heading("Annex: contributions", level=1)
    doc.add_paragraph(f"The draft is based on {n_contrib} contribution"
                      f"{'s' if n_contrib != 1 else ''}:")
    for name, d in sorted(inp.documents.items(), key=lambda kv: (kv[1].contributor.casefold(),
                                                                 kv[0])):
        who = d.contributor
        if d.organisation and d.organisation != d.contributor:
            who += f" / {d.organisation}"
        add_text(styled_paragraph(list_bullet), _clean(f"{who} ({name})"))

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    doc.save(str(tmp))
    tmp.replace(path)
    return path


def read_footnotes(path: Path) -> dict[int, str]:
    """Footnote id -> text of a .docx (for tests and checks)."""
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        if "word/footnotes.xml" not in zf.namelist():
            return {}
        root = etree.fromstring(zf.read("word/footnotes.xml"))
    out = {}
    for fn in root.findall(qn("w:footnote")):
        fid = int(fn.get(qn("w:id")))
        if fid <= 0:
            continue
        out[fid] = "".join(t.text or "" for t in fn.iter(qn("w:t"))).strip()
    return out


