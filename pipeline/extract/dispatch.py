"""One file -> a RawDocument, or an ExtractionError carrying its quarantine reason.

Runs inside a worker process (pool.py), so it may be killed at any point; it reads nothing but
the file and holds no state between files. The order of checks: size on disk, type from the
first bytes, zip central directory for packages, then the format's extractor, then the
per-paragraph clean-up (too-short and letterless blocks dropped) and language detection.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.config import ExtractSettings
from pipeline.errors import ExtractionError
from pipeline.extract.clean import has_letters
from pipeline.extract.guards import check_file_size, open_checked_zip
from pipeline.extract.language import detect_language
from pipeline.extract.model import RawDocument
from pipeline.extract.sniff import DOCUMENT_EXTENSIONS, Sniffed, sniff, zip_container_kind

# Bump whenever extraction output changes: it is part of the cache key.
EXTRACTOR_VERSION = "2026.11.23-1"

_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ""}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}


def _mislabelled(path: Path, what: Sniffed) -> ExtractionError:
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_EXTENSIONS:
        return ExtractionError(
            "corrupt",
            f"The file is named '{path.name}' but its content is {what.description}, not a "
            f"{suffix} document; it was probably mislabelled or damaged. Ask the contributor to "
            "send the document again.",
        )
    return ExtractionError(
        "unsupported",
        f"The file is {what.description}; the pipeline reads Word (.docx, .doc), PDF, "
        "OpenDocument (.odt), RTF, HTML and plain-text files. Ask the contributor for one of "
        "those (a scanned image needs OCR first).",
    )


def read_document(path: Path, settings: ExtractSettings) -> RawDocument:
    """The format-specific extraction, without the clean-up and language steps."""
    check_file_size(path, settings.max_file_mb)
    what = sniff(path)
    suffix = path.suffix.lower()
    if what.kind == "empty":
        raise ExtractionError(
            "empty", "The file is empty (0 bytes). Ask the contributor to send it again.")
    if what.kind == "pdf":
        from pipeline.extract.pdf import extract_pdf

        return extract_pdf(path, settings.max_pages)
    if what.kind == "zip":
        with open_checked_zip(path, settings.max_uncompressed_mb,
                              settings.max_compression_ratio) as zf:
            kind, description = zip_container_kind(zf)
        if kind == "docx":
            from pipeline.extract.docx import extract_docx

            return extract_docx(path)
        if kind == "odt":
            from pipeline.extract.odt import extract_odt

            return extract_odt(path)
        if kind == "docx_strict":
            raise ExtractionError(
                "unsupported",
                "The Word file is saved as 'Strict Open XML Document', which the Word reader "
                "(python-docx) does not support. Open it in Word and save it as an ordinary "
                "'Word Document (.docx)'.",
            )
        if suffix in DOCUMENT_EXTENSIONS - {".docx", ".docm", ".dotx", ".odt"}:
            raise _mislabelled(path, Sniffed("zip", description))
        raise ExtractionError(
            "unsupported",
            f"The file is {description}; the pipeline reads Word, PDF, OpenDocument text, RTF, "
            "HTML and plain-text files. Ask the contributor for one of those.",
        )
    if what.kind == "ole_word":
        from pipeline.extract.doc import extract_doc

        return extract_doc(path, settings.timeout_s)
    if what.kind == "ole_other":
        raise ExtractionError(
            "unsupported",
            f"The file is {what.description}, not a Word document. Ask the contributor for the "
            "contribution as .docx or PDF.",
        )
    if what.kind == "rtf":
        from pipeline.extract.rtf import extract_rtf

        return extract_rtf(path)
    if what.kind == "html":
        from pipeline.extract.html import extract_html

        return extract_html(path)
    if what.kind == "text":
        if suffix in (".html", ".htm"):
            from pipeline.extract.html import extract_html

            return extract_html(path)
        if suffix in _TEXT_SUFFIXES:
            from pipeline.extract.text import extract_text

            return extract_text(path, markdown=suffix in _MARKDOWN_SUFFIXES)
        if suffix in DOCUMENT_EXTENSIONS:
            raise _mislabelled(path, what)
        raise ExtractionError(
            "unsupported",
            f"The file is a text file of type '{suffix}', which is not read as a contribution "
            "(only .txt and .md are). Rename it to .txt if it is prose.",
        )
    raise _mislabelled(path, what)


def extract_file(path: Path, settings: ExtractSettings) -> RawDocument:
    """Extract, drop blocks that are too short or hold no letters, detect each block's language;
    quarantine as `empty` a file that yields no block."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    raw = read_document(path, settings)
    raw.blocks = [
        b for b in raw.blocks
        if len(b.text) >= settings.min_paragraph_chars and has_letters(b.text)
    ]
    if not raw.blocks:
        if raw.file_type == "pdf" and raw.warnings:
            raise ExtractionError(
                "corrupt",
                "The PDF opens but none of its pages could be read (" + "; ".join(raw.warnings)
                + "). Ask the contributor to export it again.",
            )
        raise ExtractionError(
            "empty",
            f"The {raw.file_type.upper()} file opens but holds no text (only images, empty "
            "pages, or headers/footers). Check it by hand; if it is a scan, run OCR on it.",
        )
    for block in raw.blocks:
        block.language = detect_language(block.text)
    return raw
