"""`cenb review apply review.xlsx`: validate every decision, then store confirmed labels.

1. Read the sheet (pipeline/review/sheet.py) and check every row that carries reviewer input:
   known decision, relabel key among the 16 challenge keys, merge target an existing (and not
   itself rejected or merged) group, ids present and unedited (each row's hidden check hash),
   no relabel_to / merge_into without the matching decision. All problems are collected and
   raised together as one ReviewError naming sheet and row; nothing is written then.
2. Turn decisions into one labels row per paragraph (a paragraph's own decision overrides its
   group's) in the labels format of BRIEF.md / pipeline/classify/labels.py: "source": "review",
   reviewer, reviewed_at, paragraph_id, decision (+ group_id, relabel_to, merge_into, comment).
3. Append them to labels/confirmed/<date>-<sheet-hash>.jsonl. The sheet hash is computed from
   the decisions, so applying the same sheet twice adds nothing; rows that repeat a paragraph's
   latest confirmed decision (e.g. decisions a re-run pre-filled) are skipped too.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import ReviewError
from pipeline.review.confirmed import (
    DECISIONS,
    ConfirmedLabel,
    confirmed_dir,
    load_confirmed,
)
from pipeline.review.sheet import (
    GROUPS_SHEET,
    PARAGRAPHS_SHEET,
    ReviewSheet,
    SheetRow,
    read_review_sheet,
    row_check,
)
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

MAX_CHALLENGES = 3


@dataclass
class Decision:
    kind: str                 # "group" | "paragraph"
    row: SheetRow
    decision: str
    relabel_to: str | None
    merge_into: str | None
    comment: str | None


@dataclass
class ParagraphInfo:
    paragraph_id: str
    text: str
    heading: str | None
    source_file: str | None
    contributor: str | None
    option_group: str | None
    challenges: list[str]
    stakeholders: list[str]
    is_policy_option: bool
    row: SheetRow


@dataclass
class ReviewPlan:
    sheet: ReviewSheet
    labels: list[dict[str, Any]]               # one per paragraph, without who/when
    counts: Counter[str] = field(default_factory=Counter)
    comments_without_decision: int = 0


def _split_keys(value: Any) -> list[str]:
    if value is None:
        return []
    return [k.strip() for k in str(value).replace(";", ",").split(",") if k.strip()]


def _get_decision(row: SheetRow, kind: str, problems: list[str]) -> Decision | None:
    raw = row.review("decision")
    relabel = row.review("relabel_to")
    merge = row.review("merge_into")
    comment = row.review("comment")
    if raw is None:
        if relabel:
            problems.append(f"{row.where}: relabel_to is {relabel!r} but decision is empty "
                            "(choose relabel).")
        if merge:
            problems.append(f"{row.where}: merge_into is {merge!r} but decision is empty "
                            "(choose merge).")
        return None
    decision = raw.lower()
    if decision not in DECISIONS:
        problems.append(f"{row.where}: unknown decision {raw!r} (use one of "
                        f"{', '.join(DECISIONS)}).")
        return None
    ok = True
    if decision == "relabel":
        if not relabel:
            problems.append(f"{row.where}: decision relabel needs a challenge key in "
                            "relabel_to.")
            ok = False
        elif relabel not in CHALLENGE_KEYS:
            problems.append(f"{row.where}: unknown challenge key {relabel!r} in relabel_to "
                            f"(use one of {', '.join(CHALLENGE_KEYS)}).")
            ok = False
    elif relabel:
        problems.append(f"{row.where}: relabel_to is {relabel!r} but decision is {decision}.")
        ok = False
    if decision == "merge":
        if not merge:
            problems.append(f"{row.where}: decision merge needs a group id in merge_into.")
            ok = False
    elif merge:
        problems.append(f"{row.where}: merge_into is {merge!r} but decision is {decision}.")
        ok = False
    if not ok:
        return None
    return Decision(kind, row, decision, relabel if decision == "relabel" else None,
                    merge if decision == "merge" else None, comment)


def _paragraph_info(row: SheetRow, problems: list[str]) -> ParagraphInfo | None:
    pid = row.get("paragraph_id")
    text = row.get("text")
    if not pid or not isinstance(pid, str):
        problems.append(f"{row.where}: paragraph_id is missing.")
        return None
    if text is None or row_check("paragraph", pid, str(text)) != row.get("check"):
        problems.append(f"{row.where}: unknown paragraph id {pid!r} (the id or the text of this "
                        "row was edited; copy the row from the sheet `cenb run` wrote).")
        return None
    challenges = _split_keys(row.get("challenges"))
    stakeholders = _split_keys(row.get("stakeholders"))
    bad = [k for k in challenges if k not in CHALLENGE_KEYS] + [
        k for k in stakeholders if k not in STAKEHOLDER_KEYS]
    if bad:
        problems.append(f"{row.where}: the challenges/stakeholders columns hold unknown keys "
                        f"{bad} (those columns are not for editing: use relabel).")
        return None
    option = str(row.get("is_policy_option") or "").strip().lower() in ("yes", "true", "1")
    heading = row.get("heading")
    return ParagraphInfo(pid, str(text), str(heading) if heading else None,
                         row.get("source_file"), row.get("contributor"),
                         row.get("option_group") or None, challenges, stakeholders, option, row)


def _group_info(row: SheetRow, problems: list[str]) -> tuple[str, str, list[str]] | None:
    gid = row.get("group_id")
    challenge = row.get("challenge")
    members = _split_keys(row.get("paragraph_ids"))
    if not gid or not isinstance(gid, str):
        problems.append(f"{row.where}: group_id is missing.")
        return None
    text = f"{challenge}\x1f{','.join(members)}"
    if challenge not in CHALLENGE_KEYS or row_check("group", gid, text) != row.get("check"):
        problems.append(f"{row.where}: unknown group id {gid!r} (the id, challenge or "
                        "paragraph_ids of this row were edited).")
        return None
    return gid, str(challenge), members


def _replace(keys: list[str], old: str | None, new: str) -> list[str]:
    out = [new if k == old else k for k in keys]
    if new not in out:
        out.insert(0, new)
    return list(dict.fromkeys(out))


def _cap(keys: list[str], keep_first: str | None = None) -> list[str]:
    keys = list(dict.fromkeys(keys))
    if keep_first and keep_first in keys:
        keys.remove(keep_first)
        keys.insert(0, keep_first)
    return keys[:MAX_CHALLENGES]


def plan_review(sheet: ReviewSheet) -> ReviewPlan:
    """Validate every decision of the sheet and turn them into label rows (nothing written)."""
    problems: list[str] = []
    plan = ReviewPlan(sheet=sheet, labels=[])

    # groups: ids (all rows, merge targets must be real), decisions
    groups: dict[str, tuple[str, list[str], SheetRow]] = {}
    group_decisions: dict[str, Decision] = {}
    seen_rows: dict[str, SheetRow] = {}
    for row in sheet.groups:
        decision = _get_decision(row, "group", problems)
        has_input = decision is not None or row.review("comment")
        gid_raw = row.get("group_id")
        if isinstance(gid_raw, str) and gid_raw in seen_rows:
            problems.append(f"{row.where}: group id {gid_raw!r} appears twice (first at row "
                            f"{seen_rows[gid_raw].row}).")
            continue
        info = _group_info(row, problems if has_input else [])
        if info is None:
            continue
        gid, challenge, members = info
        seen_rows[gid] = row
        groups[gid] = (challenge, members, row)
        if decision is not None:
            group_decisions[gid] = decision
        elif row.review("comment"):
            plan.comments_without_decision += 1

    paragraphs: dict[str, ParagraphInfo] = {}
    para_decisions: dict[str, Decision] = {}
    seen_p: dict[str, SheetRow] = {}
    for row in sheet.paragraphs:
        decision = _get_decision(row, "paragraph", problems)
        pid_raw = row.get("paragraph_id")
        if isinstance(pid_raw, str) and pid_raw in seen_p:
            problems.append(f"{row.where}: paragraph id {pid_raw!r} appears twice (first at row "
                            f"{seen_p[pid_raw].row}).")
            continue
        info = _paragraph_info(row, problems if decision is not None else [])
        if info is None:
            continue
        seen_p[info.paragraph_id] = row
        paragraphs[info.paragraph_id] = info
        if decision is not None:
            para_decisions[info.paragraph_id] = decision
        elif row.review("comment"):
            plan.comments_without_decision += 1

    # merge targets
    def target_problem(d: Decision, own_group: str | None) -> str | None:
        target = d.merge_into
        if target not in groups:
            return f"{d.row.where}: merge_into {target!r} is not a group id of the Groups sheet."
        if own_group is not None and target == own_group and d.kind == "group":
            return f"{d.row.where}: a group cannot be merged into itself."
        td = group_decisions.get(target)
        if td is not None and td.decision in ("reject", "merge"):
            return (f"{d.row.where}: merge_into {target!r}, but that group is itself "
                    f"{'rejected' if td.decision == 'reject' else 'merged'} "
                    f"({GROUPS_SHEET} row {td.row.row}).")
        return None

    for gid, d in group_decisions.items():
        if d.decision == "merge":
            msg = target_problem(d, gid)
            if msg:
                problems.append(msg)
        for pid in groups[gid][1]:
            if pid not in paragraphs:
                problems.append(f"{d.row.where}: group {gid} lists paragraph {pid!r}, which is "
                                f"not in the {PARAGRAPHS_SHEET} sheet.")
    for pid, d in para_decisions.items():
        if d.decision == "merge":
            msg = target_problem(d, paragraphs[pid].option_group)
            if msg:
                problems.append(msg)

    if problems:
        raise ReviewError(f"{sheet.path}: {len(problems)} problem(s); nothing was applied:\n  "
                          + "\n  ".join(problems))

    def effective_challenge(gid: str) -> str:
        challenge = groups[gid][0]
        d = group_decisions.get(gid)
        return d.relabel_to if d is not None and d.decision == "relabel" and d.relabel_to \
            else challenge

    # paragraph -> group decisions affecting it (sheet order)
    via_groups: dict[str, list[tuple[str, Decision]]] = {}
    for gid, d in group_decisions.items():
        for pid in groups[gid][1]:
            via_groups.setdefault(pid, []).append((gid, d))

    for pid in sorted(set(para_decisions) | set(via_groups),
                      key=lambda p: paragraphs[p].row.row):
        info = paragraphs[pid]
        label: dict[str, Any] = {"paragraph_id": pid, "text": info.text,
                                 "heading": info.heading, "source_file": info.source_file,
                                 "contributor": info.contributor}
        if pid in para_decisions:
            d = para_decisions[pid]
            label.update(_paragraph_label(d, info, groups, effective_challenge))
            label["sheet_row"] = d.row.where
        else:
            label.update(_group_label(via_groups[pid], info, groups, effective_challenge))
        plan.labels.append(label)
        plan.counts[label["decision"]] += 1
    return plan


def _paragraph_label(d: Decision, info: ParagraphInfo, groups: dict[str, Any],
                     effective_challenge: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"decision": d.decision, "group_id": info.option_group,
                           "relabel_to": d.relabel_to, "merge_into": d.merge_into,
                           "comment": d.comment}
    if d.decision == "accept":
        out.update(challenges=_cap(info.challenges), stakeholders=list(info.stakeholders),
                   is_policy_option=info.is_policy_option)
    elif d.decision == "reject":
        out.update(challenges=[], stakeholders=None, is_policy_option=None)
    elif d.decision == "relabel":
        out.update(challenges=[d.relabel_to], stakeholders=None, is_policy_option=None)
    else:  # merge
        target = effective_challenge(d.merge_into)
        own = groups[info.option_group][0] if info.option_group in groups else None
        out.update(challenges=_cap(_replace(info.challenges, own, target), target),
                   stakeholders=None, is_policy_option=True)
    return out


def _group_label(decisions: list[tuple[str, Decision]], info: ParagraphInfo,
                 groups: dict[str, Any], effective_challenge: Any) -> dict[str, Any]:
    challenges = list(info.challenges)
    stakeholders: list[str] | None = list(info.stakeholders)
    option: bool | None = True
    chosen: tuple[str, Decision] = decisions[0]
    keep_first: str | None = None
    for gid, d in decisions:
        own = groups[gid][0]
        if d.decision == "accept":
            challenges = _replace(challenges, own, own)
            keep_first = keep_first or own
        elif d.decision == "reject":
            challenges = [c for c in challenges if c != own]
            stakeholders = None
        elif d.decision == "relabel":
            challenges = _replace(challenges, own, d.relabel_to)
            keep_first = d.relabel_to
            stakeholders = None
        else:
            target = effective_challenge(d.merge_into)
            challenges = _replace(challenges, own, target)
            keep_first = target
            stakeholders = None
        if d.decision == "merge" or (chosen[1].decision == "accept" and d.decision != "accept"):
            chosen = (gid, d)
    if all(d.decision == "reject" for _, d in decisions):
        option = None
    gid, d = chosen
    return {"decision": d.decision, "group_id": gid, "relabel_to": d.relabel_to,
            "merge_into": d.merge_into, "comment": d.comment,
            "challenges": _cap(challenges, keep_first), "stakeholders": stakeholders,
            "is_policy_option": option, "sheet_row": d.row.where}


_COMPARED = ("decision", "challenges", "stakeholders", "is_policy_option", "merge_into",
             "relabel_to")


def _same_as(label: dict[str, Any], current: ConfirmedLabel | None) -> bool:
    if current is None:
        return False
    mine = (label["decision"], tuple(label["challenges"]),
            tuple(label["stakeholders"]) if label["stakeholders"] is not None else None,
            label["is_policy_option"], label.get("merge_into"), label.get("relabel_to"))
    theirs = (current.decision, tuple(current.challenges), current.stakeholders,
              current.is_policy_option, current.merge_into, current.relabel_to)
    return mine == theirs


def sheet_hash(labels: list[dict[str, Any]]) -> str:
    canon = [{k: lab.get(k) for k in ("paragraph_id", "group_id", "comment") + _COMPARED}
             for lab in labels]
    canon.sort(key=lambda d: d["paragraph_id"])
    data = json.dumps(canon, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass
class ApplyResult:
    path: Path | None
    written: int
    skipped_existing: int
    already_applied: bool
    counts: Counter[str]
    reviewer: str
    comments_without_decision: int

    def summary(self, sheet: Path) -> str:
        if self.already_applied:
            return (f"{sheet} was already applied ({self.path}); nothing added.")
        decided = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items())) or "no decisions"
        lines = [f"Reviewed by {self.reviewer}: {decided}."]
        if self.written:
            lines.append(f"Wrote {self.written} confirmed label(s) to {self.path}.")
        if self.skipped_existing:
            lines.append(f"{self.skipped_existing} decision(s) were already recorded under "
                         "labels/confirmed/ and were not added again.")
        if not self.written:
            lines.append("Nothing new to store.")
        if self.comments_without_decision:
            lines.append(f"Note: {self.comments_without_decision} row(s) have a comment but no "
                         "decision; comments are stored only with a decision.")
        if self.written:
            lines.append("Next: `cenb train` learns from them; `cenb run` shows them as "
                         "confirmed.")
        return "\n".join(lines)


def apply_plan(plan: ReviewPlan, labels_dir: Path, reviewer: str,
               now: datetime | None = None) -> ApplyResult:
    now = now or datetime.now(timezone.utc)
    directory = confirmed_dir(labels_dir)
    digest = sheet_hash(plan.labels)
    existing = sorted(directory.glob(f"*-{digest}.jsonl")) if directory.is_dir() else []
    if existing:
        return ApplyResult(existing[0], 0, 0, True, plan.counts, reviewer,
                           plan.comments_without_decision)
    latest = load_confirmed(labels_dir)
    stamp = now.isoformat(timespec="seconds")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for label in plan.labels:
        if _same_as(label, latest.get(label["paragraph_id"])):
            skipped += 1
            continue
        row = {
            "id": f"review-{label['paragraph_id']}-{digest[:8]}",
            "text": label["text"],
            "challenges": label["challenges"],
            "stakeholders": label["stakeholders"],
            "is_policy_option": label["is_policy_option"],
            "heading": label["heading"],
            "source": "review",
            "reviewer": reviewer,
            "reviewed_at": stamp,
            "paragraph_id": label["paragraph_id"],
            "decision": label["decision"],
            "group_id": label.get("group_id"),
            "relabel_to": label.get("relabel_to"),
            "merge_into": label.get("merge_into"),
            "comment": label.get("comment"),
            "source_file": label.get("source_file"),
            "contributor": label.get("contributor"),
            "review_sheet": plan.sheet.path.name,
            "review_row": label.get("sheet_row"),
            "sheet_hash": digest,
        }
        rows.append(row)
    if not rows:
        return ApplyResult(None, 0, skipped, False, plan.counts, reviewer,
                           plan.comments_without_decision)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{now.strftime('%Y-%m-%d')}-{digest}.jsonl"
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return ApplyResult(path, len(rows), skipped, False, plan.counts, reviewer,
                       plan.comments_without_decision)


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def apply_review(sheet_path: Path, settings: Settings, reviewer: str | None = None,
                 now: datetime | None = None) -> str:
    """Validate, then store the sheet's decisions; returns a summary for a person."""
    sheet = read_review_sheet(Path(sheet_path))
    plan = plan_review(sheet)
    who = (reviewer or "").strip() or sheet.reviewer or _login()
    result = apply_plan(plan, settings.labels_dir, who, now=now)
    return result.summary(Path(sheet_path))
