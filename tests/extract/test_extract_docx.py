"""Word .docx: a contribution built with python-docx (headings, lists, a table, header, footer,
a comment, tracked changes, hidden text) and real files for what python-docx cannot write
(footnotes, endnotes, text boxes, Strict OOXML)."""

from __future__ import annotations

import copy
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree

from pipeline.config import ExtractSettings
from pipeline.errors import ExtractionError
from pipeline.extract.dispatch import read_document
from pipeline.extract.docx import extract_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _run(text: str, tag: str = "t") -> etree._Element:
    r = etree.SubElement(etree.Element(qn("w:p")), qn("w:r"))
    t = etree.SubElement(r, qn(f"w:{tag}"))
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return r


@pytest.fixture
def contribution(tmp_path: Path) -> Path:
    d = docx.Document()
    d.core_properties.author = "Jane Okafor"
    d.core_properties.title = "Contribution of the Ruritania Digital Rights Network"
    d.sections[0].header.paragraphs[0].text = "HEADER TEXT Ruritania DRN"
    d.sections[0].footer.paragraphs[0].text = "FOOTER TEXT page"
    d.add_paragraph("Ruritania Digital Rights Network", style="Title")
    d.add_heading("1. What are the main cybersecurity challenges?", level=1)
    intro = d.add_paragraph("Mobile money fraud is rising in rural districts.")
    d.add_comment(intro.runs, text="COMMENT TEXT check this figure", author="Reviewer")
    d.add_paragraph("Operators should verify identity before a SIM swap.", style="List Bullet")
    d.add_paragraph("Regulators should publish fraud statistics.", style="List Number")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Measure", "Owner"
    table.cell(1, 0).text, table.cell(1, 1).text = "SIM swap checks", "Operators"
    d.add_heading("2. Policy options", level=2)
    p = d.add_paragraph("Governments should fund the national CERT")
    ins = etree.SubElement(p._p, qn("w:ins"), {qn("w:id"): "1", qn("w:author"): "A"})
    ins.append(_run(" and its regional offices"))
    dele = etree.SubElement(p._p, qn("w:del"), {qn("w:id"): "2", qn("w:author"): "A"})
    dele.append(_run(" DELETED TEXT", tag="delText"))
    p.add_run(".")
    hidden = d.add_paragraph("Visible sentence.")
    run = hidden.add_run(" HIDDEN TEXT")
    run.font.hidden = True
    bold = d.add_paragraph()
    bold.add_run("Most critical issue").bold = True
    d.add_paragraph("Trust in mobile payments.")
    path = tmp_path / "contribution.docx"
    d.save(path)
    return path


def test_body_in_document_order_with_kinds_and_headings(contribution: Path):
    raw = extract_docx(contribution)
    got = [(b.kind, b.heading, b.text) for b in raw.blocks]
    q1 = "1. What are the main cybersecurity challenges?"
    assert got == [
        ("body", q1, "Mobile money fraud is rising in rural districts."),
        ("list_item", q1, "Operators should verify identity before a SIM swap."),
        ("list_item", q1, "Regulators should publish fraud statistics."),
        ("table", q1, "Measure | Owner"),
        ("table", q1, "SIM swap checks | Operators"),
        ("body", "2. Policy options",
         "Governments should fund the national CERT and its regional offices."),
        ("body", "2. Policy options", "Visible sentence."),
        ("body", "Most critical issue", "Trust in mobile payments."),
    ]
    assert raw.title == "Ruritania Digital Rights Network"
    assert raw.author == "Jane Okafor"


def test_headers_footers_comments_deletions_and_hidden_text_stay_out(contribution: Path):
    text = " ".join(b.text for b in extract_docx(contribution).blocks)
    for absent in ("HEADER TEXT", "FOOTER TEXT", "COMMENT TEXT", "DELETED TEXT", "HIDDEN TEXT"):
        assert absent not in text


def test_footnotes_and_endnotes_come_last_and_marked(realdoc):
    raw = extract_docx(realdoc("docx2python-footnotes-endnotes.docx"))
    tail = [(b.kind, b.text) for b in raw.blocks[-4:]]
    assert tail == [("footnote", "First footnote"), ("footnote", "Second footnote"),
                    ("endnote", "First endnote"), ("endnote", "Second endnote")]
    body = " ".join(b.text for b in raw.blocks)
    assert "Header text" not in body and "Footer text" not in body


def test_footnote_holding_a_table(realdoc):
    raw = extract_docx(realdoc("openxml-powertools-footnote-with-table.docx"))
    notes = [b.text for b in raw.blocks if b.kind == "footnote"]
    assert notes and "Bbb" in notes[0]


def test_text_boxes_are_read_once(realdoc):
    raw = extract_docx(realdoc("docling-textbox.docx"))
    texts = [b.text for b in raw.blocks]
    hits = [t for t in texts if "A report must be submitted within 24 hours" in t]
    assert len(hits) == 1          # stored twice in the file (DrawingML + VML), read once
    assert len(texts) > 10         # python-docx's Document.paragraphs sees only 2 lines


def test_tracked_insertions_are_kept(realdoc):
    path = realdoc("openxml-powertools-tracked-revisions.docx")
    document = docx.Document(str(path))
    inserted = [
        "".join(t.text or "" for t in ins.iter(qn("w:t"))).strip()
        for ins in document.element.body.iter(qn("w:ins"))
    ]
    inserted = [t for t in inserted if len(t) >= 8]
    plain = " ".join(p.text for p in document.paragraphs)
    raw = extract_docx(path)
    ours = " ".join([b.text for b in raw.blocks] + raw.headings)
    assert inserted
    assert sum(t in plain for t in inserted) < len(inserted)   # python-docx drops w:ins text
    assert all(" ".join(t.split()) in ours for t in inserted)


def test_comments_are_not_body_text(realdoc):
    raw = extract_docx(realdoc("docling-comments.docx"))
    assert [b.text for b in raw.blocks][0] == \
        "This is the first paragraph that has a comment attached to it."
    assert not any("reviewer comment" in b.text for b in raw.blocks)


def test_lists_are_marked(realdoc):
    raw = extract_docx(realdoc("docling-lists.docx"))
    assert sum(b.kind == "list_item" for b in raw.blocks) >= 40


def test_strict_ooxml_gets_a_clear_verdict(realdoc):
    with pytest.raises(ExtractionError) as err:
        read_document(realdoc("docling-strict-ooxml.docx"), ExtractSettings())
    assert err.value.reason == "unsupported"
    assert "Strict Open XML" in err.value.detail


def test_docx_with_a_doc_name_is_read_as_docx(realdoc):
    raw = read_document(realdoc("unstructured-eng-spa.doc"), ExtractSettings())
    assert raw.file_type == "docx"
    assert any("Todos los seres humanos" in b.text for b in raw.blocks)


def test_package_whose_main_part_is_not_document_xml(realdoc):
    raw = read_document(realdoc("unstructured-office365-odd-zip.docx"), ExtractSettings())
    assert raw.blocks and "sample file" in raw.blocks[0].text


def test_sdt_content_controls_are_read(tmp_path: Path):
    d = docx.Document()
    p = d.add_paragraph("Inside a content control.")
    body = p._p.getparent()
    sdt = etree.SubElement(body, qn("w:sdt"))
    content = etree.SubElement(sdt, qn("w:sdtContent"))
    content.append(copy.deepcopy(p._p))
    body.remove(p._p)
    body.remove(sdt)
    body.insert(0, sdt)
    path = tmp_path / "sdt.docx"
    d.save(path)
    assert [b.text for b in extract_docx(path).blocks] == ["Inside a content control."]
