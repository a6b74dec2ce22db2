"""report.docx: the 2017 output document's form, attribution as real Word footnotes."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline.report.areas import AREAS
from pipeline.report.build import build_report
from pipeline.report.docx_report import contribution_of, read_footnotes


@pytest.fixture
def built(tmp_path, make_input, finder, encode_tfidf, settings_for):
    inp = make_input()
    result = build_report(inp, encode_tfidf, settings_for(), tmp_path, find_sentences=finder)
    return inp, result, tmp_path / "report.docx"


def _footnote_refs(paragraph):
    return [int(r.get(qn("w:id"))) for r in paragraph._p.iter(qn("w:footnoteReference"))]


def test_docx_has_footnotes_part_and_styles(built):
    _, _, path = built
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "word/footnotes.xml" in names
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("word/_rels/document.xml.rels").decode()
    assert "wordprocessingml.footnotes+xml" in types
    assert "relationships/footnotes" in rels
    doc = Document(str(path))
    styles = {s.name for s in doc.styles}
    assert {"Footnote Text", "Footnote Reference"} <= styles


def test_every_option_is_a_numbered_item_attributed_by_footnote(built):
    inp, result, path = built
    doc = Document(str(path))
    notes = read_footnotes(path)
    items = [p for p in doc.paragraphs if p.style.name == "List Number"]
    assert len(items) == len(result.grouping.groups)
    by_text = {g.representative.quote.text: g for g in result.grouping.groups}
    for p in items:
        refs = _footnote_refs(p)
        assert len(refs) == 1
        g = by_text[p.text]                       # the item is the group's verbatim wording
        assert notes[refs[0]] == "; ".join(contribution_of(c, o) for c, o in g.attributions) + "."
        assert {c for c, _ in g.attributions} == set(g.contributors)
        assert p._p.pPr.find(qn("w:numPr")) is not None
    # every footnote is referenced once and reads "Contribution of <contributor>"
    all_refs = [r for p in doc.paragraphs for r in _footnote_refs(p)]
    assert sorted(all_refs) == sorted(notes)
    known = {contribution_of(d.contributor, d.organisation) for d in inp.documents.values()}
    for text in notes.values():
        for part in text.rstrip(".").split("; "):
            assert part in known
    assert "Contribution of NorthCERT (NorthCERT Coordination Centre)." in notes.values()
    assert "Contribution of Dr. Amara Osei" + "." in notes.values()  # no organisation given


def test_headings_follow_the_2017_structure(built):
    _, result, path = built
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    area_headings = [h for h in headings if h in {a.heading for a in AREAS}]
    assert area_headings == [a.heading for a in AREAS]        # a..j, then additional areas
    assert headings.index("Policy options to help address the CENB cybersecurity challenges") \
        < headings.index("a. Securing the reliability of and access to Internet services")
    assert "Additional policy areas raised in individual contributions" in headings
    # numbering restarts per area: each area has its own w:num
    num_ids = []
    for p in doc.paragraphs:
        if p.style.name == "List Number":
            num_ids.append(p._p.pPr.find(qn("w:numPr")).find(qn("w:numId")).get(qn("w:val")))
    areas_with_groups = len({g.challenge for g in result.grouping.groups})
    assert len(set(num_ids)) == areas_with_groups


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice (soffice) and poppler (pdftotext) are needed to check "
                           "that the .docx opens")
def test_docx_opens_in_libreoffice_with_footnotes(built, tmp_path):
    _, result, path = built
    work = tmp_path / "convert"
    work.mkdir()
    shutil.copy(path, work / "report.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work}/profile",
                    "--convert-to", "pdf", "--outdir", str(work), str(work / "report.docx")],
                   check=True, capture_output=True, timeout=180)
    pdf = work / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 5000
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    text = " ".join(text.split())
    assert "Contribution of NorthCERT (NorthCERT Coordination Centre)." in text
    assert "a. Securing the reliability of and access to Internet services" in text


def test_an_edited_draft_is_kept(tmp_path, make_input, finder, encode_tfidf, settings_for):
    from pipeline.report.build import write_run_json

    out = tmp_path / "out"
    first = build_report(make_input(), encode_tfidf, settings_for(), out, find_sentences=finder)
    write_run_json(out / "run.json", {"output_sha256": first.output_sha256})
    # an unedited draft is simply replaced
    second = build_report(make_input(), encode_tfidf, settings_for(), out, find_sentences=finder)
    assert second.paths["docx"] == out / "report.docx"
    write_run_json(out / "run.json", {"output_sha256": second.output_sha256})
    # the secretariat edits it: the next run keeps it, and keeps keeping it
    doc = Document(str(out / "report.docx"))
    doc.add_paragraph("Secretariat note: merge items 2 and 4.")
    doc.save(str(out / "report.docx"))
    third = build_report(make_input(), encode_tfidf, settings_for(), out, find_sentences=finder)
    assert third.paths["docx"] != out / "report.docx"
    assert "was edited" in third.notes
    write_run_json(out / "run.json", {"output_sha256": third.output_sha256})
    fourth = build_report(make_input(), encode_tfidf, settings_for(), out, find_sentences=finder,
                          now=__import__("datetime").datetime(2030, 1, 1))
    assert fourth.paths["docx"].name == "report-20300101-000000.docx"
    assert "Secretariat note" in " ".join(p.text for p in Document(str(out / "report.docx"))
                                          .paragraphs)


@pytest.mark.parametrize("text", ["Governments should publish their policies.",
                                  "  leading and trailing spaces  ", "a\ttab", "two\nlines",
                                  "carriage\rreturn", "", "“Quoted” & <escaped> ümlaut"])
def test_add_text_writes_the_run_add_run_writes(text):
    from lxml import etree

    from pipeline.report.docx_report import add_text

    doc = Document()
    fast, stock = doc.add_paragraph(), doc.add_paragraph()
    add_text(fast, text)
    stock.add_run(text)
    assert etree.tostring(fast._p) == etree.tostring(stock._p)
