"""Type sniffing, size/zip bounds, and the other formats: .txt, .md, .html, .rtf, .odt, .doc."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from odf import teletype
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableRow
from odf.text import H, List, ListItem, Note, NoteBody, NoteCitation, P

from pipeline.config import ExtractSettings
from pipeline.errors import ExtractionError
from pipeline.extract.doc import antiword_available, parse_antiword
from pipeline.extract.dispatch import extract_file, read_document
from pipeline.extract.sniff import sniff


def reason_of(path: Path, **settings) -> str:
    with pytest.raises(ExtractionError) as err:
        extract_file(path, ExtractSettings(**settings))
    return err.value.reason


# -- sniffing -----------------------------------------------------------------------------------

def test_type_comes_from_content_not_name(realdoc):
    assert sniff(realdoc("constructed-doc-renamed.docx")).kind == "ole_word"   # passes is_zipfile
    assert zipfile.is_zipfile(realdoc("docling-legacy-sample.doc"))
    assert sniff(realdoc("docling-legacy-sample.doc")).kind == "ole_word"
    assert sniff(realdoc("unstructured-eng-spa.doc")).kind == "zip"
    assert sniff(realdoc("constructed-png-renamed.pdf")).kind == "image"
    assert sniff(realdoc("unstructured-eng-spa.rtf")).kind == "rtf"
    assert sniff(realdoc("constructed-zero-byte.docx")).kind == "empty"
    assert sniff(realdoc("constructed-plain.txt")).kind == "text"


def test_mislabelled_and_foreign_files(tmp_path: Path, realdoc):
    assert reason_of(realdoc("constructed-png-renamed.pdf")) == "corrupt"
    png = tmp_path / "scan.png"
    png.write_bytes(realdoc("constructed-png-renamed.pdf").read_bytes())
    assert reason_of(png) == "unsupported"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a contribution"
    wb.save(tmp_path / "sheet.xlsx")
    assert reason_of(tmp_path / "sheet.xlsx") == "unsupported"
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert reason_of(tmp_path / "data.csv") == "unsupported"
    (tmp_path / "blank.txt").write_text("   \n\n  12  \n", encoding="utf-8")
    assert reason_of(tmp_path / "blank.txt") == "empty"


# -- bounds --------------------------------------------------------------------------------------

def test_zip_bomb_is_refused_fast_without_inflating(realdoc):
    started = time.perf_counter()
    with pytest.raises(ExtractionError) as err:
        read_document(realdoc("constructed-zip-bomb.docx"), ExtractSettings())
    assert time.perf_counter() - started < 0.5
    assert err.value.reason == "too_large" and "word/document.xml" in err.value.detail


def test_member_ratio_and_total_size_limits(tmp_path: Path):
    bomb = tmp_path / "small-bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * (4 * 1024 * 1024))
    assert reason_of(bomb) == "too_large"
    assert reason_of(bomb, max_compression_ratio=100_000, max_uncompressed_mb=1) == "too_large"


def test_truncated_package_is_corrupt(realdoc):
    assert reason_of(realdoc("constructed-truncated.docx")) == "corrupt"


def test_file_size_limit(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000, encoding="utf-8")
    assert reason_of(big, max_file_mb=1) == "too_large"


# -- text and markdown ---------------------------------------------------------------------------

def test_plain_text(tmp_path: Path):
    path = tmp_path / "note.txt"
    path.write_bytes("Submitted by: Kenya ICT Action Network\r\n\r\nOur first para-\r\ngraph is "
                     "here.\r\n\r\n- one\r\n- two\r\n".encode("cp1252"))
    raw = extract_file(path, ExtractSettings())
    assert [(b.kind, b.text) for b in raw.blocks] == [
        ("body", "Submitted by: Kenya ICT Action Network"),
        ("body", "Our first paragraph is here."),
        ("list_item", "- one"),
        ("list_item", "- two"),
    ]


def test_markdown(tmp_path: Path):
    path = tmp_path / "input.md"
    path.write_text("# Contribution of X\n\nIntro with **bold** and a [link](http://x.org).\n\n"
                    "## Policy options\n\n* Governments should act.\n* Vendors should\n  patch."
                    "\n\n| Area | Owner |\n|---|---|\n| DNS | Registries |\n\n```\ncode = 1\n```\n",
                    encoding="utf-8")
    raw = extract_file(path, ExtractSettings())
    assert [(b.kind, b.heading, b.text) for b in raw.blocks] == [
        ("body", "Contribution of X", "Intro with bold and a link."),
        ("list_item", "Policy options", "Governments should act."),
        ("list_item", "Policy options", "Vendors should patch."),
        ("table", "Policy options", "Area | Owner"),
        ("table", "Policy options", "DNS | Registries"),
    ]


# -- html ----------------------------------------------------------------------------------------

def test_html_text_only(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<!DOCTYPE html><html><head><title>Input</title><style>p{}</style></head><body>"
        "<nav>Home | About</nav><h1>Our input</h1><p>First <b>bold</b> point.</p>"
        "<ul><li>One</li><li><p>Two</p></li></ul><script>alert('x')</script>"
        "<table><tr><th>Area</th><th>Owner</th></tr><tr><td>DNS</td><td>Registries</td></tr>"
        "</table><div>Loose text <i>here</i></div></body></html>", encoding="utf-8")
    raw = extract_file(path, ExtractSettings())
    assert [(b.kind, b.text) for b in raw.blocks] == [
        ("body", "First bold point."), ("list_item", "One"), ("list_item", "Two"),
        ("table", "Area | Owner"), ("table", "DNS | Registries"), ("body", "Loose text here"),
    ]
    assert raw.title == "Input"
    assert all(b.heading == "Our input" for b in raw.blocks)


# -- rtf, odt, doc ------------------------------------------------------------------------------

def test_rtf(realdoc):
    raw = extract_file(realdoc("unstructured-eng-spa.rtf"), ExtractSettings())
    assert raw.file_type == "rtf" and len(raw.blocks) == 5
    assert [b.language for b in raw.blocks][-1] == "es"


def test_odt_structure(tmp_path: Path):
    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Question 1"))
    para = P(text="Answer with a note")
    note = Note(noteclass="footnote", id="ftn1")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="The footnote text."))
    note.addElement(body)
    para.addElement(note)
    teletype.addTextToElement(para, " and more.")
    doc.text.addElement(para)
    lst = List()
    for t in ("First item", "Second item"):
        item = ListItem()
        item.addElement(P(text=t))
        lst.addElement(item)
    doc.text.addElement(lst)
    table = Table()
    row = TableRow()
    for t in ("Cell A", "Cell B"):
        cell = TableCell()
        cell.addElement(P(text=t))
        row.addElement(cell)
    table.addElement(row)
    doc.text.addElement(table)
    path = tmp_path / "answer.odt"
    doc.save(str(path))
    raw = extract_file(path, ExtractSettings())
    assert [(b.kind, b.heading, b.text) for b in raw.blocks] == [
        ("body", "Question 1", "Answer with a note and more."),
        ("list_item", "Question 1", "First item"),
        ("list_item", "Question 1", "Second item"),
        ("table", "Question 1", "Cell A | Cell B"),
        ("footnote", None, "The footnote text."),
    ]


def test_real_odt(realdoc):
    raw = extract_file(realdoc("unstructured-eng-spa.odt"), ExtractSettings())
    assert raw.file_type == "odt" and len(raw.blocks) == 5


def test_antiword_output_parsing():
    text = ("\nSummer activities\n\nSwimming in the lake\n\n[pic]\n\nTo get started, lay down in "
            "the\nwater:\n\n      • You can relax\n\n     1. Wear sunglasses\n\n"
            "|Food    |Calories |\n|Leaves  |50       |\n")
    raw = parse_antiword(text)
    assert [(b.kind, b.text) for b in raw.blocks] == [
        ("body", "To get started, lay down in the water:"),
        ("list_item", "• You can relax"),
        ("list_item", "1. Wear sunglasses"),
        ("table", "Food | Calories"),
        ("table", "Leaves | 50"),
    ]
    # antiword loses styles: a short line standing alone before a paragraph is a heading
    assert raw.headings == ["Summer activities", "Swimming in the lake"]
    assert raw.blocks[0].heading == "Swimming in the lake"


def test_word_97_files(realdoc):
    path = realdoc("docling-legacy-sample.doc")
    if not antiword_available():
        assert reason_of(path) == "unsupported"
        return
    raw = extract_file(path, ExtractSettings())
    assert raw.file_type == "doc"
    assert any("Wear sunglasses" in b.text and b.kind == "list_item" for b in raw.blocks)
    german = extract_file(realdoc("docling-german-headings.doc"), ExtractSettings())
    assert {b.language for b in german.blocks if len(b.text) > 60} == {"de"}
