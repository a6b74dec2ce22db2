"""The fast character conversion gives exactly pdfplumber's page objects, on real PDFs."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from pipeline.extract.pdf import extract_pdf
from pipeline.extract.pdf_objects import load_objects

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PDFS = sorted((ROOT / "corpus" / "raw").glob("*.pdf"))

# Streams and colour spaces hold PDF stream objects, which compare by identity between opens.
_BY_IDENTITY = ("stream", "colorspace")


def _comparable(objects: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {kind: [{k: v for k, v in obj.items() if k not in _BY_IDENTITY} for obj in objs]
            for kind, objs in objects.items()}


def _assert_same_objects(path: Path, max_pages: int = 4) -> int:
    reference, fast = pdfplumber.open(path), pdfplumber.open(path)
    chars = 0
    try:
        for ours, theirs in zip(fast.pages[:max_pages], reference.pages[:max_pages]):
            got = load_objects(ours)
            assert ours.objects is got   # stored where pdfplumber looks
            assert _comparable(got) == _comparable(theirs.objects), (path.name, ours.page_number)
            chars += len(got.get("char", []))
    finally:
        reference.close()
        fast.close()
    return chars


@pytest.mark.parametrize("path", SAMPLE_PDFS, ids=lambda p: p.name)
def test_sample_pdfs_get_pdfplumbers_objects(path):
    assert _assert_same_objects(path) > 500


@pytest.mark.parametrize("name", [
    "pdfplumber-issue-71-duplicate-chars.pdf",   # characters drawn twice, images
    "pdfplumber-issue-842-example.pdf",          # CJK, an image
    "pdfminer-japanese-vertical.pdf",            # vertical writing
    "unstructured-olap-paper-fr.pdf",            # ligatures, figures
    "pdfplumber-2023-06-20-PV.pdf",              # cropped media box, tagged content
])
def test_real_pdfs_get_pdfplumbers_objects(realdoc, name):
    assert _assert_same_objects(realdoc(name)) > 0


def test_extraction_is_unchanged_by_the_fast_path(monkeypatch):
    fast = [extract_pdf(p, 600).to_dict() for p in SAMPLE_PDFS[:2]]
    monkeypatch.setattr("pipeline.extract.pdf.load_objects", lambda page: None)
    assert fast == [extract_pdf(p, 600).to_dict() for p in SAMPLE_PDFS[:2]]


def _offset_media_box_pdf(path: Path) -> Path:
    """A one-page PDF whose media box does not start at 0,0 (pdfplumber shifts coordinates)."""
    content = b"BT /F1 12 Tf 120 700 Td (Offset media box, shifted words.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [50 60 662 852] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(out)
    return path


def test_offset_media_box_is_shifted_like_pdfplumber(tmp_path):
    path = _offset_media_box_pdf(tmp_path / "offset.pdf")
    with pdfplumber.open(path) as pdf:
        assert pdf.pages[0].mediabox[0] == 50
    assert _assert_same_objects(path) == len("Offset media box, shifted words.")
