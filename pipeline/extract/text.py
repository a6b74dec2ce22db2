"""Plain text (.txt) and Markdown (.md) -> blocks.

Paragraphs are separated by blank lines; the lines of one paragraph are joined (with
de-hyphenation). Lines that start with a bullet or a number become list items. In Markdown,
'#' headings become the heading context, emphasis/link/code markup is dropped and table rows
become table blocks.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.extract.clean import clean_text
from pipeline.extract.model import Block, RawDocument
from pipeline.extract.paragraphs import is_list_start, join_lines

_MD_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_LIST_RE = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


def decode_text(data: bytes) -> str:
    """Bytes -> text: BOMs honoured, UTF-8 first, then Windows-1252 (never fails)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _chunks(text: str) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            chunks[-1].append(line.rstrip())
        elif chunks[-1]:
            chunks.append([])
    return [c for c in chunks if c]


def _list_blocks(lines: list[str], pattern) -> list[list[str]]:
    """Split a chunk into items where lines start a list item; continuation lines stay with
    their item."""
    items: list[list[str]] = []
    for line in lines:
        if pattern(line) or not items:
            items.append([line])
        else:
            items[-1].append(line)
    return items


def extract_text(path: Path, markdown: bool = False) -> RawDocument:
    text = decode_text(path.read_bytes())
    return parse_markdown(text) if markdown else parse_plain(text)


def parse_plain(text: str) -> RawDocument:
    blocks: list[Block] = []
    for chunk in _chunks(text):
        if any(is_list_start(ln) for ln in chunk):
            for item in _list_blocks(chunk, is_list_start):
                kind = "list_item" if is_list_start(item[0]) else "body"
                _add(blocks, join_lines([ln.strip() for ln in item]), kind, None)
        else:
            _add(blocks, join_lines([ln.strip() for ln in chunk]), "body", None)
    return RawDocument(file_type="txt", blocks=blocks)


def _strip_markdown(text: str) -> str:
    text = _MD_LINK_RE.sub(r"\1", text)
    for _ in range(2):
        text = _MD_EMPHASIS_RE.sub(r"\2", text)
    return text


def parse_markdown(text: str) -> RawDocument:
    blocks: list[Block] = []
    headings: list[str] = []
    heading: str | None = None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # drop fenced code: it is not prose
    kept: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE_RE.match(line):
            fenced = not fenced
            kept.append("")
            continue
        kept.append("" if fenced else line)
    for chunk in _chunks("\n".join(kept)):
        # a chunk may hold headings between its lines
        buffer: list[str] = []

        def flush_buffer() -> None:
            if not buffer:
                return
            if all(ln.lstrip().startswith("|") for ln in buffer):
                for row in buffer:
                    if _MD_TABLE_RULE_RE.match(row):
                        continue
                    cells = [_strip_markdown(c).strip() for c in row.strip().strip("|").split("|")]
                    _add(blocks, " | ".join(c for c in cells if c), "table", heading)
            elif any(_MD_LIST_RE.match(ln) for ln in buffer):
                for item in _list_blocks(buffer, lambda ln: bool(_MD_LIST_RE.match(ln))):
                    kind = "list_item" if _MD_LIST_RE.match(item[0]) else "body"
                    first = _MD_LIST_RE.sub("", item[0], count=1)
                    body = [first] + [ln.strip() for ln in item[1:]]
                    _add(blocks, _strip_markdown(join_lines(body)), kind, heading)
            else:
                body = [ln.strip().lstrip(">").strip() for ln in buffer]
                _add(blocks, _strip_markdown(join_lines(body)), "body", heading)
            buffer.clear()

        for i, line in enumerate(chunk):
            m = _MD_HEADING_RE.match(line)
            setext = i + 1 < len(chunk) and _MD_SETEXT_RE.match(chunk[i + 1]) and not buffer
            if m or setext:
                flush_buffer()
                heading = clean_text(_strip_markdown(m.group(2) if m else line)) or heading
                if heading:
                    headings.append(heading)
                continue
            if _MD_SETEXT_RE.match(line) and i > 0 and not buffer:
                continue  # the underline of a setext heading
            buffer.append(line)
        flush_buffer()
    if not blocks and headings:
        blocks = [Block(text=h) for h in headings]
    return RawDocument(file_type="md", blocks=blocks, headings=headings,
                       title=headings[0] if headings else None)


def _add(blocks: list[Block], text: str, kind: str, heading: str | None) -> None:
    text = clean_text(text)
    if text:
        blocks.append(Block(text=text, kind=kind, heading=heading))
