"""Rich Text Format -> blocks with striprtf (text only: one block per RTF paragraph)."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ExtractionError
from pipeline.extract.model import RawDocument
from pipeline.extract.text import decode_text, parse_plain


def extract_rtf(path: Path) -> RawDocument:
    from striprtf.striprtf import rtf_to_text

    raw = decode_text(path.read_bytes())
    try:
        text = rtf_to_text(raw, errors="replace")
    except Exception as exc:  # striprtf raises plain exceptions on broken control words
        raise ExtractionError(
            "corrupt", f"The RTF file cannot be read ({type(exc).__name__}: {exc}). Ask the "
            "contributor to save it again, or as .docx or PDF.") from None
    # striprtf ends every RTF paragraph with a newline: make each one a block of its own.
    doc = parse_plain(text.replace("\n", "\n\n"))
    doc.file_type = "rtf"
    return doc
