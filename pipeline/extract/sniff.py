"""What a file really is, from its first bytes, not from its name.

A real Word 97-2003 file passes zipfile.is_zipfile() (it embeds a theme zip), an upstream ".doc"
can be a .docx package, and a ".pdf" can be a PNG: the extension is only used to phrase the
message when content and name disagree.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 8192
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"BM": "a BMP image",
}
_OTHER_MAGIC = {
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
}
# Extensions of the formats the pipeline reads: a file named like one of them whose content is
# something else is damaged or mislabelled (verdict `corrupt`), not merely of another format.
DOCUMENT_EXTENSIONS = {".pdf", ".docx", ".docm", ".dotx", ".doc", ".odt", ".rtf", ".txt", ".md",
                       ".html", ".htm"}
TEXT_EXTENSIONS = {".txt", ".md", ".markdown", ".text", ""}


@dataclass(frozen=True)
class Sniffed:
    kind: str          # pdf, zip, ole_word, ole_other, rtf, html, text, empty, image, binary
    description: str   # what the content is, in words ("a PNG image")


def sniff(path: Path) -> Sniffed:
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        return Sniffed("empty", "an empty file")
    if b"%PDF-" in head[:1024]:
        return Sniffed("pdf", "a PDF document")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed("zip", "a zip package")
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(path)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{\\rtf"):
        return Sniffed("rtf", "a Rich Text Format document")
    for magic, what in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return Sniffed("image", what)
    for magic, what in _OTHER_MAGIC.items():
        if head.startswith(magic):
            return Sniffed("binary", what)
    text = _decode_head(head)
    if text is None:
        return Sniffed("binary", "a binary file of an unknown kind")
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html")) or (
        lowered.startswith("<?xml") and "<html" in lowered[:2048]
    ):
        return Sniffed("html", "an HTML page")
    return Sniffed("text", "plain text")


def _sniff_ole(path: Path) -> Sniffed:
    """An OLE compound file: Word 97-2003 when it has a WordDocument stream."""
    with open(path, "rb") as fh:
        data = fh.read(4 * 1024 * 1024)
    if _WORD_STREAM in data:
        return Sniffed("ole_word", "a Word 97-2003 document (.doc)")
    if "Workbook".encode("utf-16-le") in data:
        return Sniffed("ole_other", "an Excel 97-2003 workbook (.xls)")
    if "PowerPoint Document".encode("utf-16-le") in data:
        return Sniffed("ole_other", "a PowerPoint 97-2003 presentation (.ppt)")
    return Sniffed("ole_other", "an Office 97-2003 file that is not a Word document")


def _decode_head(head: bytes) -> str | None:
    """The head as text if it looks like text (UTF-8/UTF-16 with BOM, or mostly printable)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut at the end of the head
            text = head[: exc.start].decode("utf-8")
        else:
            text = head.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    return text if controls <= 0.01 * max(len(text), 1) else None


# (substring of the package's mimetype / [Content_Types].xml, kind, description)
_OTHER_ODF = (("opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
              ("opendocument.presentation", "an OpenDocument presentation (.odp)"),
              ("epub", "an e-book (EPUB)"))
_OOXML = (("wordprocessingml", "docx", "a Word document (.docx)"),
          ("spreadsheetml", "other", "an Excel workbook (.xlsx)"),
          ("presentationml", "other", "a PowerPoint presentation (.pptx)"))


def zip_container_kind(zf: zipfile.ZipFile) -> tuple[str, str]:
    """(kind, description) of a zip package whose central directory was already checked:
    docx, docx_strict, odt, or 'other' with a description."""
    names = set(zf.namelist())
    if "mimetype" in names:
        mime = zf.read("mimetype")[:200].decode("ascii", errors="replace").strip()
        if mime == "application/vnd.oasis.opendocument.text":
            return "odt", "an OpenDocument text (.odt)"
        for needle, description in _OTHER_ODF:
            if needle in mime:
                return "other", description
    if "[Content_Types].xml" in names:
        info = zf.getinfo("[Content_Types].xml")
        types = zf.read(info)[:1_000_000].decode("utf-8", errors="replace") if info.file_size < 1_000_000 else ""
        rels = ""
        if "_rels/.rels" in names and zf.getinfo("_rels/.rels").file_size < 1_000_000:
            rels = zf.read("_rels/.rels").decode("utf-8", errors="replace")
        if "purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" in rels:
            return "docx_strict", "a Word document saved as Strict Open XML"
        for needle, kind, description in _OOXML:
            if needle in types:
                return kind, description
        return "other", "an Office Open XML package that is not a Word document"
    return "other", "a zip archive"
