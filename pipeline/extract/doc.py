"""Word 97-2003 (.doc) -> blocks through antiword, a Debian tool (`apt-get install antiword`).

Without antiword the file is quarantined as `unsupported`, with a sentence saying how to read
it. antiword keeps paragraphs (blank-line separated), bullets and numbers, and draws tables as
|cell|cell| rows; styles are lost, so a short line standing alone before a paragraph is taken
as a heading.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from pipeline.errors import ExtractionError
from pipeline.extract.clean import clean_text
from pipeline.extract.model import Block, RawDocument
from pipeline.extract.paragraphs import ends_sentence, is_list_start, join_lines

_PIC_RE = re.compile(r"^\[pic\]$")


def antiword_available() -> bool:
    return shutil.which("antiword") is not None


def extract_doc(path: Path, timeout_s: float) -> RawDocument:
    exe = shutil.which("antiword")
    if exe is None:
        raise ExtractionError(
            "unsupported",
            "The file is a Word 97-2003 document (.doc), which this installation cannot read "
            "(antiword is not installed; `make sysdeps` installs it). Install it, or open the file "
            "in Word or LibreOffice and save it as .docx.",
        )
    env = dict(os.environ, ANTIWORDHOME="/usr/share/antiword", LC_ALL="C.UTF-8")
    try:
        proc = subprocess.run(
            [exe, "-w", "0", "-m", "UTF-8.txt", str(path)],
            capture_output=True, timeout=timeout_s, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractionError(
            "timeout", f"Reading the Word 97-2003 file took longer than {timeout_s:g} s. Ask the "
            "contributor for a .docx or PDF version.") from None
    err = proc.stderr.decode("utf-8", errors="replace").strip()
    if proc.returncode != 0:
        if "encrypt" in err.lower() or "password" in err.lower():
            raise ExtractionError(
                "encrypted", "The Word 97-2003 file is protected by a password. Ask the "
                "contributor for an unprotected copy.")
        raise ExtractionError(
            "corrupt", f"The Word 97-2003 file cannot be read (antiword: {err or 'failed'}). Ask "
            "the contributor to save it again as .docx or PDF.")
    return parse_antiword(proc.stdout.decode("utf-8", errors="replace"))


def parse_antiword(text: str) -> RawDocument:
    chunks: list[list[str]] = [[]]
    for line in text.replace("\r", "").split("\n"):
        if line.strip():
            chunks[-1].append(line.strip())
        elif chunks[-1]:
            chunks.append([])
    chunks = [c for c in chunks if c and not all(_PIC_RE.match(x) for x in c)]
    items: list[tuple[str, str]] = []   # (kind, text)
    for chunk in chunks:
        if all(x.startswith("|") for x in chunk):
            for row in chunk:
                cells = [clean_text(c) for c in row.strip().strip("|").split("|")]
                cells = [c for c in cells if c]
                if cells:
                    items.append(("table", " | ".join(cells)))
        elif is_list_start(chunk[0]):
            items.append(("list_item", join_lines(chunk)))
        else:
            items.append(("body", join_lines(chunk)))
    blocks: list[Block] = []
    headings: list[str] = []
    heading: str | None = None
    for i, (kind, raw) in enumerate(items):
        text = clean_text(raw)
        if not text:
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        if (kind == "body" and len(text) <= 100 and len(text.split()) <= 12
                and not ends_sentence(text) and nxt is not None and nxt[0] == "body"
                and len(nxt[1]) > len(text)):
            heading = text
            headings.append(text)
            continue
        blocks.append(Block(text=text, kind=kind, heading=heading))
    if not blocks and headings:
        blocks = [Block(text=h) for h in headings]
    return RawDocument(file_type="doc", blocks=blocks, headings=headings,
                       title=headings[0] if headings else None)
