"""What one extractor hands back for one file, before provenance and contributor are applied.

A `Block` is a paragraph-to-be: its text is final (cleaned, de-hyphenated, one line). A
`RawDocument` is a file's blocks plus what the file says about itself (title, author); it is what
the per-file cache stores, as JSON, so it holds plain values only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Block:
    text: str
    kind: str = "body"            # one of records.PARAGRAPH_KINDS
    page: int | None = None       # 1-based PDF page of the block's first line
    heading: str | None = None    # nearest heading above the block
    language: str | None = None   # filled in by the language step

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Block:
        return cls(**d)


@dataclass
class RawDocument:
    file_type: str                        # docx, pdf, txt, md, odt, rtf, html, doc
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    title: str | None = None              # from the file's metadata or its first heading
    author: str | None = None             # the file's author property, when it has one
    headings: list[str] = field(default_factory=list)  # every heading, in order (title page clues)
    warnings: list[str] = field(default_factory=list)  # e.g. pages that failed and were skipped

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["blocks"] = [b.to_dict() for b in self.blocks]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RawDocument:
        d = dict(d)
        d["blocks"] = [Block.from_dict(b) for b in d.get("blocks", [])]
        return cls(**d)
