"""Reviewers' confirmed labels (labels/confirmed/*.jsonl) as the report stage sees them.

The files are written by `cenb review apply` (pipeline/review/apply.py) in the labels format of
BRIEF.md / pipeline/classify/labels.py ("source": "review", reviewer, reviewed_at, the
paragraph's stable id, decision); `cenb train` reads the same files. Here they are read back
keyed by paragraph_id: the latest decision for a paragraph wins (by reviewed_at, then file name,
then line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import LabelDataError
from pipeline.jsonl import read_jsonl_objects
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

DECISIONS: tuple[str, ...] = ("accept", "reject", "relabel", "merge")
CONFIRMED_SUBDIR = "confirmed"


@dataclass(frozen=True)
class ConfirmedLabel:
    paragraph_id: str
    decision: str                          # accept | reject | relabel | merge
    challenges: tuple[str, ...]
    stakeholders: tuple[str, ...] | None   # None: not judged (the model's stand)
    is_policy_option: bool | None          # None: not judged
    reviewer: str
    reviewed_at: str
    relabel_to: str | None = None
    merge_into: str | None = None
    group_id: str | None = None
    comment: str | None = None
    file: str = ""
    line: int = 0

    @property
    def summary(self) -> str:
        what = self.decision
        if self.decision == "relabel" and self.relabel_to:
            what += f" → {self.relabel_to}"
        if self.decision == "merge" and self.merge_into:
            what += f" → {self.merge_into}"
        return f"{what} ({self.reviewer}, {self.reviewed_at[:10]})"


def confirmed_dir(labels_dir: Path) -> Path:
    return Path(labels_dir) / CONFIRMED_SUBDIR


def _keys(value: Any, allowed: tuple[str, ...], where: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise LabelDataError(f"{where}: `{what}` must be a list of known keys, got {value!r}.")
    return tuple(value)


def parse_confirmed(obj: dict[str, Any], where: str, file: str, line: int
                    ) -> ConfirmedLabel | None:
    """A ConfirmedLabel from one labels row; None for rows without a paragraph id."""
    pid = obj.get("paragraph_id")
    if not pid:
        return None
    challenges = _keys(obj.get("challenges"), CHALLENGE_KEYS, where, "challenges")
    stakeholders = obj.get("stakeholders")
    if stakeholders is not None:
        stakeholders = _keys(stakeholders, STAKEHOLDER_KEYS, where, "stakeholders")
    option = obj.get("is_policy_option")
    decision = obj.get("decision") or "accept"
    if decision not in DECISIONS:
        raise LabelDataError(f"{where}: unknown decision {decision!r}.")
    return ConfirmedLabel(
        paragraph_id=str(pid), decision=decision, challenges=challenges,
        stakeholders=stakeholders, is_policy_option=option if isinstance(option, bool) else None,
        reviewer=str(obj.get("reviewer") or obj.get("author") or ""),
        reviewed_at=str(obj.get("reviewed_at") or obj.get("confirmed_at")
                         or obj.get("created") or ""),
        relabel_to=obj.get("relabel_to"), merge_into=obj.get("merge_into"),
        group_id=obj.get("group_id"), comment=obj.get("comment"), file=file, line=line)


def read_confirmed_rows(labels_dir: Path) -> list[tuple[str, int, dict[str, Any]]]:
    """(file name, line, object) of every row under labels_dir/confirmed/, in file order."""
    out: list[tuple[str, int, dict[str, Any]]] = []
    directory = confirmed_dir(labels_dir)
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.jsonl")):
        for n, obj in read_jsonl_objects(path, LabelDataError):
            out.append((path.name, n, obj))
    return out


def load_confirmed(labels_dir: Path) -> dict[str, ConfirmedLabel]:
    """paragraph_id -> its latest confirmed label."""
    latest: dict[str, ConfirmedLabel] = {}
    for name, n, obj in read_confirmed_rows(labels_dir):
        label = parse_confirmed(obj, f"{CONFIRMED_SUBDIR}/{name}:{n}", name, n)
        if label is None:
            continue
        current = latest.get(label.paragraph_id)
        if current is None or (label.reviewed_at, label.file, label.line) >= (
                current.reviewed_at, current.file, current.line):
            latest[label.paragraph_id] = label
    return latest
