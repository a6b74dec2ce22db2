"""Record types that flow between stages; their field names are what the files on disk hold.

extract -> Document + Paragraph rows (corpus/interim/*.parquet) or a QuarantineEntry
classify -> Prediction per paragraph (the `cenb predict` contract of CONTRACTS.md)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

QUARANTINE_REASONS: tuple[str, ...] = (
    "encrypted",
    "no_text_layer",
    "corrupt",
    "empty",
    "unsupported",
    "too_large",
    "timeout",
)

PARAGRAPH_KINDS: tuple[str, ...] = ("body", "list_item", "table", "footnote", "endnote")


def content_hash(text: str) -> str:
    """sha256 of a text: the key of the embedding cache and of de-duplication."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB pieces: the extraction cache key of a submission, and
    how a run recognises its own outputs (run.json) and a model its arrays."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def paragraph_id(source_file: str, text: str, occurrence: int) -> str:
    """Stable id: same file path + same text (+ nth repeat) gives the same id across runs.

    Review decisions are keyed by it, so it must not depend on the paragraph's position
    (an edit earlier in a document must not re-key later paragraphs).
    """
    key = f"{source_file}\x1f{text}\x1f{occurrence}".encode("utf-8")
    return "p-" + hashlib.sha1(key).hexdigest()[:16]


@dataclass(frozen=True)
class Paragraph:
    paragraph_id: str
    source_file: str          # relative to the input directory, '/'-separated
    file_sha256: str
    contributor: str
    organisation: str | None
    stakeholder_group: str | None  # the contributor's own group, from the manifest if given
    page: int | None          # 1-based PDF page; None for formats without pages
    paragraph: int            # 1-based index in the document
    heading: str | None       # nearest heading / question the paragraph answers
    kind: str                 # one of PARAGRAPH_KINDS
    char_start: int           # offsets into Document.text
    char_end: int
    text: str
    language: str | None
    content_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    source_file: str
    file_sha256: str
    file_type: str            # docx, pdf, txt, md, odt, rtf, html
    contributor: str
    organisation: str | None
    stakeholder_group: str | None
    language: str | None
    pages: int | None
    text: str                 # paragraph texts joined by PARAGRAPH_SEPARATOR; quotes index into it
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class QuarantineEntry:
    source_file: str
    reason: str               # one of QUARANTINE_REASONS
    detail: str               # a sentence a person understands: what happened, what to do
    file_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Prediction:
    """One `cenb predict` output object (CONTRACTS.md), minus the caller's id."""

    challenges: list[str]
    challenge_scores: dict[str, float]
    stakeholders: list[str]
    stakeholder_scores: dict[str, float]
    is_policy_option: bool
    extra: dict[str, Any] = field(default_factory=dict)  # not part of the contract

    def to_contract(self, id_: Any) -> dict[str, Any]:
        return {
            "id": id_,
            "challenges": list(self.challenges),
            "challenge_scores": {k: round(float(v), 6) for k, v in self.challenge_scores.items()},
            "stakeholders": list(self.stakeholders),
            "stakeholder_scores": {
                k: round(float(v), 6) for k, v in self.stakeholder_scores.items()
            },
            "is_policy_option": bool(self.is_policy_option),
        }
