"""PDF verdicts and reading, on small real files of ../shared/realdocs (the long ones are
checked once, in test_extract_realdocs.py, from one batch run)."""

from __future__ import annotations

import pytest

from pipeline.config import ExtractSettings
from pipeline.errors import ExtractionError
from pipeline.extract.dispatch import extract_file, read_document
from pipeline.extract.pdf import extract_pdf


def verdict(path, **settings) -> str:
    try:
        extract_file(path, ExtractSettings(**settings))
    except ExtractionError as exc:
        assert exc.detail and exc.detail[0].isupper() and exc.detail.endswith(".")
        return exc.reason
    return "text"


@pytest.mark.parametrize("name, expected", [
    ("pdfplumber-password-example.pdf", "encrypted"),
    ("pdfminer-aes256-r6-password.pdf", "encrypted"),
    ("pdfminer-csg-obesity-owner-password.pdf", "text"),   # owner password only: opens
    ("unstructured-loremipsum-flattened.pdf", "no_text_layer"),
    ("constructed-png-renamed.pdf", "corrupt"),
    ("constructed-zero-byte.pdf", "empty"),
    ("pdfplumber-issue-297-no-pages.pdf", "empty"),
    ("unstructured-bad-color-space.pdf", "corrupt"),       # opens, every page fails
    ("pdfminer-zen-of-python-corrupted.pdf", "text"),      # broken xref, recoverable
])
def test_verdicts(realdoc, name, expected):
    assert verdict(realdoc(name)) == expected


def test_password_detail_says_what_to_do(realdoc):
    with pytest.raises(ExtractionError) as err:
        extract_file(realdoc("pdfplumber-password-example.pdf"), ExtractSettings())
    assert "password" in err.value.detail and "Ask the contributor" in err.value.detail


def test_too_many_pages_is_too_large(realdoc):
    with pytest.raises(ExtractionError) as err:
        extract_pdf(realdoc("pdfplumber-2023-06-20-PV.pdf"), max_pages=1)
    assert err.value.reason == "too_large" and "2 pages" in err.value.detail


def test_pages_headings_and_language(realdoc):
    raw = extract_file(realdoc("pdfplumber-2023-06-20-PV.pdf"), ExtractSettings())
    assert raw.pages == 2
    assert {b.page for b in raw.blocks} == {1, 2}
    assert any(b.heading == "1. Ouverture de la séance" for b in raw.blocks)
    assert {b.language for b in raw.blocks if len(b.text) > 60} == {"fr"}


def test_owner_password_pdf_reads_normally(realdoc):
    raw = read_document(realdoc("pdfminer-csg-obesity-owner-password.pdf"), ExtractSettings())
    assert any("options for states" in b.text for b in raw.blocks)


def test_word_export_bullets_become_list_items(realdoc):
    raw = extract_pdf(realdoc("docling-word-processor-essay.pdf"), 600)
    items = [b.text for b in raw.blocks if b.kind == "list_item"]
    assert any(t.startswith("• IBM MT/ST") and "magnetic tape storage" in t for t in items)
    assert not any(b.text == "•" for b in raw.blocks)


def test_doubled_glyphs_are_drawn_once(realdoc):
    text = " ".join(b.text for b in extract_pdf(realdoc("pdfplumber-issue-842-example.pdf"),
                                                600).blocks)
    assert "安徽安利合成革股份有限公司" in text
    assert "安安" not in text


def test_vertical_japanese_is_read_top_to_bottom(realdoc):
    text = " ".join(b.text for b in extract_pdf(realdoc("pdfminer-japanese-vertical.pdf"),
                                                600).blocks)
    assert "わたくしといふ現象は" in text
    assert "宮澤賢治" in text


def test_arabic_comes_out_in_logical_order(realdoc):
    raw = extract_pdf(realdoc("docling-arabic-rtl.pdf"), 600)
    text = " ".join([b.text for b in raw.blocks] + raw.headings)
    assert "البرمجة" in text          # "programming"; visual order would be "ةجمربلا"
    assert "ةجمربلا" not in text


def test_rotated_landscape_page_reads_in_lines(realdoc):
    text = " ".join(b.text for b in extract_pdf(
        realdoc("pdfplumber-nics-background-checks-2015-11-rotated.pdf"), 600).blocks)
    assert "These statistics represent the number of firearm background checks" in text


def test_fake_bold_drawn_twice_is_read_once(tmp_path):
    """A heading overprinted 0.4 pt to the right (how some tools fake bold) is read once; a
    letter repeated a glyph further on is kept."""
    from reportlab.pdfgen import canvas

    path = tmp_path / "fake-bold.pdf"
    c = canvas.Canvas(str(path))
    for dx in (0.0, 0.4):
        c.drawString(72 + dx, 720, "Network resilience")
    c.drawString(72, 690, "Operators should keep spare capacity for floods.")
    c.save()
    texts = [b.text for b in read_document(path, ExtractSettings()).blocks]
    joined = " ".join(texts)
    assert "Network resilience" in joined and "NNeettwwoorrkk" not in joined
    assert "Operators should keep spare capacity for floods." in joined
