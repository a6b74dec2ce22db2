"""Labelled paragraphs: labels/seed/*.jsonl (written by the team) and labels/confirmed/*.jsonl
(decisions confirmed by reviewers), validated and merged into one training set.

One JSON object a line, UTF-8:

    {"id": "seed-mobile-001", "text": "...", "challenges": ["mobile"],
     "stakeholders": ["private_sector"], "is_policy_option": true,
     "heading": "Policy options ..." | null, "voice": "company", "language": "en",
     "source": "seed", "author": "cenb-team", "created": "2026-11-23"}

Review rows (labels/confirmed/, written by `cenb review apply`) have "source": "review" and add
"reviewer", "reviewed_at", "paragraph_id" and "decision"; their label fields hold the labels as
confirmed (after the decision). `stakeholders` and `is_policy_option` may be null in a review row
(the reviewer did not judge them). "confirmed" is accepted as a synonym of "review".

A confirmed row overrides a seed row (and an earlier confirmed row) with the same
paragraph_id or the same text (whitespace-normalised); its null fields keep the older values.
Every problem is a LabelDataError naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from pipeline.errors import LabelDataError
from pipeline.jsonl import read_jsonl_objects
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

SOURCES = ("seed", "review", "confirmed")
MAX_CHALLENGES_PER_ROW = 3
# Provenance fields that may appear; they must be strings (or null) when present.
TEXT_FIELDS = ("voice", "language", "author", "reviewer", "created", "reviewed_at",
               "confirmed_at",
               "paragraph_id", "source_file", "contributor", "comment", "decision", "group_id")
LABEL_FIELDS = ("id", "text", "challenges", "stakeholders", "is_policy_option", "heading",
                "source")


@dataclass(frozen=True)
class LabelledRow:
    id: str
    text: str
    challenges: tuple[str, ...]
    stakeholders: tuple[str, ...] | None      # None: not judged
    is_policy_option: bool | None             # None: not judged
    heading: str | None
    source: str                               # "seed" | "review" ("confirmed" accepted)
    file: str                                 # where it came from (relative to labels_dir)
    line: int
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def substantive(self) -> bool:
        return bool(self.challenges)

    @property
    def paragraph_id(self) -> str | None:
        return self.meta.get("paragraph_id")


@dataclass
class LabelSet:
    rows: list[LabelledRow]
    files: list[str]
    overridden: int = 0          # seed/earlier rows replaced by a confirmed row
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in CHALLENGE_KEYS}
        for r in self.rows:
            for c in r.challenges:
                out[c] += 1
        out["(none)"] = sum(1 for r in self.rows if not r.challenges)
        return out


def _norm_text(text: str) -> str:
    return " ".join(text.split())


def _keys(value: Any, allowed: tuple[str, ...], what: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LabelDataError(f"{where}: `{what}` must be a list of keys, got {value!r}.")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise LabelDataError(f"{where}: unknown {what} key(s) {unknown}; allowed: "
                             f"{', '.join(allowed)}.")
    if len(set(value)) != len(value):
        raise LabelDataError(f"{where}: `{what}` repeats a key: {value}.")
    return tuple(value)


def parse_row(obj: Any, where: str, file: str, line: int) -> LabelledRow:
    """Validate one decoded JSON object; `where` is "file:line" for messages."""
    if not isinstance(obj, dict):
        raise LabelDataError(f"{where}: each line must be a JSON object.")
    for name in ("id", "text", "challenges", "source"):
        if name not in obj:
            raise LabelDataError(f"{where}: missing field `{name}`.")
    rid, text, source = obj["id"], obj["text"], obj["source"]
    if not isinstance(rid, str) or not rid.strip():
        raise LabelDataError(f"{where}: `id` must be a non-empty string.")
    if not isinstance(text, str) or not text.strip():
        raise LabelDataError(f"{where}: `text` must be a non-empty string (id {rid}).")
    if source not in SOURCES:
        raise LabelDataError(f"{where}: `source` must be one of {SOURCES}, got {source!r}.")
    challenges = _keys(obj["challenges"], CHALLENGE_KEYS, "challenges", where)
    if len(challenges) > MAX_CHALLENGES_PER_ROW:
        raise LabelDataError(f"{where}: at most {MAX_CHALLENGES_PER_ROW} challenges per row.")
    stakeholders = obj.get("stakeholders")
    if stakeholders is None and source == "seed":
        raise LabelDataError(f"{where}: seed rows need `stakeholders` (use [] for none).")
    if stakeholders is not None:
        stakeholders = _keys(stakeholders, STAKEHOLDER_KEYS, "stakeholders", where)
    option = obj.get("is_policy_option")
    if option is None and source == "seed":
        raise LabelDataError(f"{where}: seed rows need `is_policy_option` (true/false).")
    if option is not None and not isinstance(option, bool):
        raise LabelDataError(f"{where}: `is_policy_option` must be true or false, got {option!r}.")
    heading = obj.get("heading")
    if heading is not None and not isinstance(heading, str):
        raise LabelDataError(f"{where}: `heading` must be a string or null.")
    meta: dict[str, Any] = {}
    for name, value in obj.items():
        if name in LABEL_FIELDS:
            continue
        if name in TEXT_FIELDS and value is not None and not isinstance(value, str):
            raise LabelDataError(f"{where}: `{name}` must be a string or null.")
        meta[name] = value
    if source != "seed" and not (meta.get("reviewer") or meta.get("author")):
        raise LabelDataError(f"{where}: review rows need `reviewer`: who confirmed the labels.")
    return LabelledRow(id=rid, text=text, challenges=challenges, stakeholders=stakeholders,
                       is_policy_option=option, heading=heading.strip() if heading else None,
                       source=source, file=file, line=line, meta=meta)


def read_jsonl(path: Path, rel: str) -> list[LabelledRow]:
    return [parse_row(obj, f"{rel}:{n}", rel, n)
            for n, obj in read_jsonl_objects(path, LabelDataError, rel)]


def _files(labels_dir: Path, sub: str) -> list[Path]:
    d = labels_dir / sub
    return sorted(d.glob("*.jsonl")) if d.is_dir() else []


def merge_rows(seed: Iterable[LabelledRow], confirmed: Iterable[LabelledRow]) -> LabelSet:
    """Seed rows, then confirmed rows overriding by paragraph_id or normalised text."""
    rows: list[LabelledRow] = []
    by_id: dict[str, LabelledRow] = {}
    by_text: dict[str, int] = {}
    by_pid: dict[str, int] = {}
    warnings: list[str] = []
    overridden = 0
    for row in seed:
        if row.id in by_id:
            first = by_id[row.id]
            raise LabelDataError(f"{row.file}:{row.line}: duplicate id {row.id!r} "
                                 f"(first at {first.file}:{first.line}).")
        by_id[row.id] = row
        key = _norm_text(row.text)
        if key in by_text:
            first = rows[by_text[key]]
            warnings.append(f"{row.file}:{row.line}: same text as {first.file}:{first.line}; "
                            "the later row is ignored.")
            continue
        by_text[key] = len(rows)
        if row.paragraph_id:
            by_pid[row.paragraph_id] = len(rows)
        rows.append(row)
    seen_confirmed: dict[str, LabelledRow] = {}
    for row in confirmed:
        if row.id in seen_confirmed:
            first = seen_confirmed[row.id]
            raise LabelDataError(f"{row.file}:{row.line}: duplicate id {row.id!r} "
                                 f"(first at {first.file}:{first.line}).")
        seen_confirmed[row.id] = row
        idx = by_pid.get(row.paragraph_id) if row.paragraph_id else None
        if idx is None:
            idx = by_text.get(_norm_text(row.text))
        if idx is None:
            by_text[_norm_text(row.text)] = len(rows)
            if row.paragraph_id:
                by_pid[row.paragraph_id] = len(rows)
            rows.append(row)
            continue
        old = rows[idx]
        merged = replace(
            row,
            stakeholders=row.stakeholders if row.stakeholders is not None else old.stakeholders,
            is_policy_option=(row.is_policy_option if row.is_policy_option is not None
                              else old.is_policy_option),
            heading=row.heading if row.heading is not None else old.heading,
        )
        rows[idx] = merged
        overridden += 1
    return LabelSet(rows=rows, files=[], overridden=overridden, warnings=warnings)


def load_labels(labels_dir: Path | str, *, require: bool = True) -> LabelSet:
    """Every labels_dir/seed/*.jsonl and labels_dir/confirmed/*.jsonl row, validated, merged."""
    labels_dir = Path(labels_dir)
    seed_files = _files(labels_dir, "seed")
    conf_files = _files(labels_dir, "confirmed")
    seed_rows: list[LabelledRow] = []
    conf_rows: list[LabelledRow] = []
    for path in seed_files:
        rel = str(path.relative_to(labels_dir))
        for row in read_jsonl(path, rel):
            if row.source != "seed":
                raise LabelDataError(f"{rel}:{row.line}: rows under seed/ need \"source\": \"seed\".")
            seed_rows.append(row)
    for path in conf_files:
        rel = str(path.relative_to(labels_dir))
        for row in read_jsonl(path, rel):
            if row.source == "seed":
                raise LabelDataError(f"{rel}:{row.line}: rows under confirmed/ need "
                                     "\"source\": \"review\".")
            conf_rows.append(row)
    result = merge_rows(seed_rows, conf_rows)
    result.files = [str(p.relative_to(labels_dir)) for p in seed_files + conf_files]
    if require and not result.rows:
        raise LabelDataError(f"No labelled rows under {labels_dir}/seed or {labels_dir}/confirmed.")
    return result
