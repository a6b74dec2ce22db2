"""review.xlsx: the sheet in which a person confirms, rejects, relabels or merges candidates.

Sheets
- README: how to fill it in, and the reviewer-name cell.
- Groups: one row per candidate policy-option group.
- Paragraphs: one row per extracted paragraph, with its labels, scores and text.
- Lists (hidden): the values of the dropdowns. _meta (hidden): format version, run facts.

Every cell that holds contributor text goes through cells.set_cell (formula characters
neutralised, typed as text); no formula is ever written. Hidden columns hold, per row, a check
hash of the row's id and text (so `cenb review apply` notices an edited id) and the values this
program pre-filled from earlier confirmed decisions (so a re-run can tell reviewer input from
its own pre-fill and never overwrites a reviewed sheet).
"""

from __future__ import annotations

import hashlib
import json
import logging
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.report.areas import AREA_BY_KEY
from pipeline.report.grouping import GroupingResult, OptionGroup
from pipeline.report.model import ClassifiedParagraph
from pipeline.review.cells import restore_text, set_cell
from pipeline.review.confirmed import DECISIONS
from pipeline.taxonomy_keys import CHALLENGE_KEYS

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REVIEWER_LABEL = "Reviewer name"
GROUPS_SHEET = "Groups"
PARAGRAPHS_SHEET = "Paragraphs"
README_SHEET = "README"
LISTS_SHEET = "Lists"
META_SHEET = "_meta"

REVIEW_COLUMNS = ("decision", "relabel_to", "merge_into", "comment")

GROUP_COLUMNS: tuple[tuple[str, int], ...] = (
    ("group_id", 15), ("challenge", 22), ("area", 30), ("support", 9), ("contributors", 30),
    ("stakeholder_groups", 18), ("roles_addressed", 22), ("confidence", 11),
    ("representative_wording", 70), ("paragraph_ids", 24), ("confirmed", 12),
    ("decision", 12), ("relabel_to", 24), ("merge_into", 15), ("comment", 30),
    ("check", 10), ("prefill", 10),
)
PARAGRAPH_COLUMNS: tuple[tuple[str, int], ...] = (
    ("paragraph_id", 20), ("source_file", 24), ("contributor", 24), ("page", 6),
    ("paragraph", 9), ("heading", 22), ("challenges", 24), ("challenge_scores", 26),
    ("stakeholders", 22), ("is_policy_option", 9), ("option_group", 15), ("text", 80),
    ("confirmed", 22), ("decision", 12), ("relabel_to", 24), ("merge_into", 15),
    ("comment", 30), ("check", 10), ("prefill", 10),
)
HIDDEN_COLUMNS = ("check", "prefill")

_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
_REVIEW_FILL = PatternFill("solid", fgColor="FFF4CC")
_NAME_FILL = PatternFill("solid", fgColor="FFE082")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


class _CellStyles:
    """Gives body cells their look by copying a registered style array.

    Assigning `cell.alignment` / `cell.fill` makes openpyxl hash and look the style up for
    every cell: a third of the sheet's writing time at a few thousand paragraphs. Each
    combination is registered once, on its first cell, and copied to the rest.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[int, int], Any] = {}

    def apply(self, cell: Any, alignment: Alignment, fill: PatternFill | None = None) -> None:
        key = (id(alignment), id(fill))
        array = self._arrays.get(key)
        if array is None:
            cell.alignment = alignment
            if fill is not None:
                cell.fill = fill
            self._arrays[key] = copy(cell._style)
        else:
            cell._style = copy(array)


def row_check(kind: str, row_id: str, text: str) -> str:
    """Integrity hash of a row's id and text (an edited id or text no longer matches)."""
    return hashlib.sha256(f"{kind}\x1f{row_id}\x1f{text}".encode("utf-8")).hexdigest()[:16]


def group_check_text(group: OptionGroup) -> str:
    return group.challenge + "\x1f" + ",".join(group.paragraph_ids)


def _keys_text(keys: Iterable[str]) -> str:
    return ", ".join(keys)


def _scores_text(cp: ClassifiedParagraph) -> str:
    scores = cp.prediction.challenge_scores
    top = sorted(scores.items(), key=lambda kv: (-kv[1], CHALLENGE_KEYS.index(kv[0])))[:3]
    return "; ".join(f"{k} {v:.2f}" for k, v in top if v > 0)


def _prefill_for_paragraph(cp: ClassifiedParagraph) -> dict[str, Any]:
    c = cp.confirmed
    if c is None:
        return {}
    return {"decision": c.decision, "relabel_to": c.relabel_to, "merge_into": c.merge_into}


def _prefill_for_group(group: OptionGroup) -> dict[str, Any]:
    """A group's earlier decision, when every member paragraph carries the same one for it."""
    labels = [m.cp.confirmed for m in group.members]
    if not labels or any(c is None or c.group_id != group.group_id for c in labels):
        return {}
    first = labels[0]
    assert first is not None
    if any((c.decision, c.relabel_to, c.merge_into) != (first.decision, first.relabel_to,
                                                         first.merge_into) for c in labels if c):
        return {}
    return {"decision": first.decision, "relabel_to": first.relabel_to,
            "merge_into": first.merge_into}


def _header(ws: Any, columns: Sequence[tuple[str, int]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for col, (name, width) in enumerate(columns, start=1):
        cell = set_cell(ws, 1, col, name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        if name in HIDDEN_COLUMNS:
            ws.column_dimensions[letter].hidden = True
        index[name] = col
    ws.freeze_panes = "B2"
    return index


def _validations(ws: Any, cols: dict[str, int], last_row: int) -> None:
    if last_row < 2:
        last_row = 2
    def rng(name: str) -> str:
        letter = get_column_letter(cols[name])
        return f"{letter}2:{letter}{last_row}"

    decision = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"',
                              allow_blank=True, showErrorMessage=True,
                              errorTitle="Unknown decision",
                              error="Choose accept, reject, relabel or merge.")
    decision.add(rng("decision"))
    relabel = DataValidation(type="list",
                             formula1=f"{LISTS_SHEET}!$A$2:$A${len(CHALLENGE_KEYS) + 1}",
                             allow_blank=True, showErrorMessage=True,
                             errorTitle="Unknown challenge key",
                             error="Choose one of the 16 challenge keys.")
    relabel.add(rng("relabel_to"))
    ws.add_data_validation(decision)
    ws.add_data_validation(relabel)


README_LINES: tuple[str, ...] = (
    "How to review",
    "1. Type your name in the yellow cell above (or pass --reviewer to `cenb review apply`).",
    "2. Sheet 'Groups': one row per candidate policy option, i.e. option sentences from "
    "different contributions that propose the same thing, within one challenge area. Read the "
    "representative wording (a real sentence from a contribution) and the contributors.",
    "3. Sheet 'Paragraphs': one row per extracted paragraph with the labels the model gave it "
    "(challenge areas, stakeholder roles addressed, whether it proposes a policy option).",
    "4. Fill in only the yellow columns: decision, relabel_to, merge_into, comment. Leave every "
    "other column as it is (ids and texts are checked when the sheet is applied).",
    "",
    "Decisions",
    "accept: the labels shown are right. On a group: its member paragraphs are confirmed as "
    "policy options in its area, with their labels.",
    "reject: on a paragraph: it is about none of the areas (stored as a negative: no challenge "
    "area). On a group: its paragraphs are not about this group's area (that area is removed "
    "from their labels).",
    "relabel: the area is wrong; pick the right one in relabel_to (dropdown of the 16 keys). "
    "On a paragraph: its area becomes relabel_to. On a group: the group's area is replaced by "
    "relabel_to for all its paragraphs.",
    "merge: this row proposes the same thing as another group; put that group's id in "
    "merge_into. The paragraphs join that group (and its area) from the next run on.",
    "A decision on a paragraph overrides the decision on its group.",
    "comment: free text, stored with the decision.",
    "",
    "Applying",
    "Run:  cenb review apply review.xlsx   It checks every row first; if any row is wrong it "
    "lists them (sheet and row number) and stores nothing. Otherwise it appends the decisions "
    "to labels/confirmed/ (with your name and the time). Applying the same sheet twice adds "
    "nothing.",
    "The next `cenb train` learns from them; the next `cenb run` shows those paragraphs as "
    "confirmed and pre-fills their decisions in the new review sheet. A review sheet with "
    "your input is never overwritten: a new run writes its sheet beside it.",
    "",
    "Columns",
    "challenges / stakeholders: the labels in use (a reviewer's earlier decision where there is "
    "one, else the model's). challenge_scores: the model's three highest scores. confidence "
    "(groups): mean model score of the members x how similar the members are to each other. "
    "confirmed: an earlier reviewer decision.",
    "Text starting with = + - @ is shown with a leading apostrophe so that no spreadsheet "
    "program runs it as a formula.",
)


def _readme(ws: Any, meta: dict[str, Any]) -> None:
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 110
    title = set_cell(ws, 1, 1, "cenb review sheet")
    title.font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, "Generated")
    set_cell(ws, 2, 2, meta.get("generated_at", ""))
    label = set_cell(ws, 4, 1, REVIEWER_LABEL)
    label.font = Font(bold=True)
    name = ws.cell(row=4, column=2)
    name.fill = _NAME_FILL
    row = 6
    for line in README_LINES:
        cell = set_cell(ws, row, 1 if line in ("How to review", "Decisions", "Applying",
                                               "Columns") else 2, line or None)
        if line in ("How to review", "Decisions", "Applying", "Columns"):
            cell.font = Font(bold=True, size=12)
        else:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1


@dataclass
class SheetWriteResult:
    path: Path
    groups: int
    paragraphs: int
    prefilled: int


def _write_row(ws: Any, styles: _CellStyles, cols: dict[str, int], r: int, values: dict,
               pre: dict, wrapped: tuple[str, ...]) -> int:
    """One row: the values, a reviewer's earlier decisions pre-filled (and kept as JSON in
    `prefill`), review columns shaded. Returns 1 when something was pre-filled."""
    if pre:
        values.update({k: v for k, v in pre.items() if v})
    values["prefill"] = json.dumps(pre, sort_keys=True) if pre else ""
    for name, col in cols.items():
        cell = set_cell(ws, r, col, values.get(name))
        styles.apply(cell, _WRAP if name in wrapped else _TOP,
                     _REVIEW_FILL if name in REVIEW_COLUMNS else None)
    return 1 if pre else 0


def write_review_sheet(path: Path, grouping: GroupingResult,
                       paragraphs: Sequence[ClassifiedParagraph],
                       meta: dict[str, Any] | None = None) -> SheetWriteResult:
    """Write review.xlsx for one run (groups, every paragraph, README, dropdowns)."""
    meta = dict(meta or {})
    meta.setdefault("generated_at", datetime.now().astimezone().isoformat(timespec="seconds"))
    meta["format_version"] = FORMAT_VERSION
    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET
    _readme(readme, meta)
    prefilled = 0
    styles = _CellStyles()

    ws = wb.create_sheet(GROUPS_SHEET)
    cols = _header(ws, GROUP_COLUMNS)
    for r, g in enumerate(grouping.groups, start=2):
        area = AREA_BY_KEY[g.challenge]
        values: dict[str, Any] = {
            "group_id": g.group_id, "challenge": g.challenge, "area": area.heading,
            "support": g.support, "contributors": "; ".join(g.contributors),
            "stakeholder_groups": ", ".join(g.stakeholder_groups),
            "roles_addressed": _keys_text(g.roles), "confidence": round(g.confidence, 3),
            "representative_wording": g.representative.quote.text,
            "paragraph_ids": ", ".join(g.paragraph_ids),
            "confirmed": f"{g.confirmed_count}/{len(g.paragraph_ids)}" if g.confirmed_count else "",
            "check": row_check("group", g.group_id, group_check_text(g)),
        }
        prefilled += _write_row(ws, styles, cols, r, values, _prefill_for_group(g),
                                ("representative_wording", "contributors"))
    _validations(ws, cols, len(grouping.groups) + 1)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(GROUP_COLUMNS))}{len(grouping.groups) + 1}"

    ws = wb.create_sheet(PARAGRAPHS_SHEET)
    cols = _header(ws, PARAGRAPH_COLUMNS)
    ordered = sorted(paragraphs, key=ClassifiedParagraph.sort_key)
    for r, cp in enumerate(ordered, start=2):
        p = cp.para
        values = {
            "paragraph_id": p.paragraph_id, "source_file": p.source_file,
            "contributor": p.contributor, "page": p.page, "paragraph": p.paragraph,
            "heading": p.heading, "challenges": _keys_text(cp.challenges),
            "challenge_scores": _scores_text(cp), "stakeholders": _keys_text(cp.stakeholders),
            "is_policy_option": "yes" if cp.is_policy_option else "no",
            "option_group": grouping.paragraph_group.get(p.paragraph_id),
            "text": p.text,
            "confirmed": cp.confirmed.summary if cp.confirmed is not None else None,
            "check": row_check("paragraph", p.paragraph_id, p.text),
        }
        prefilled += _write_row(ws, styles, cols, r, values, _prefill_for_paragraph(cp),
                                ("text", "heading"))
    _validations(ws, cols, len(ordered) + 1)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(PARAGRAPH_COLUMNS))}{len(ordered) + 1}"

    lists = wb.create_sheet(LISTS_SHEET)
    set_cell(lists, 1, 1, "challenge_keys")
    set_cell(lists, 1, 2, "decisions")
    for i, key in enumerate(CHALLENGE_KEYS, start=2):
        set_cell(lists, i, 1, key)
    for i, d in enumerate(DECISIONS, start=2):
        set_cell(lists, i, 2, d)
    lists.sheet_state = "hidden"

    m = wb.create_sheet(META_SHEET)
    for i, (k, v) in enumerate(sorted(meta.items()), start=1):
        set_cell(m, i, 1, k)
        set_cell(m, i, 2, v if isinstance(v, (int, float, bool)) or v is None else str(v))
    m.sheet_state = "hidden"

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return SheetWriteResult(path=path, groups=len(grouping.groups), paragraphs=len(ordered),
                            prefilled=prefilled)


# ---------------------------------------------------------------- reading back

@dataclass
class SheetRow:
    sheet: str
    row: int                       # Excel row number (1-based, header is row 1)
    values: dict[str, Any]         # by header name; text columns restored (apostrophe removed)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def review(self, name: str) -> str | None:
        """A reviewer cell, trimmed; blank -> None."""
        value = self.values.get(name)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    @property
    def where(self) -> str:
        return f"{self.sheet} row {self.row}"


@dataclass
class ReviewSheet:
    path: Path
    reviewer: str | None
    groups: list[SheetRow]
    paragraphs: list[SheetRow]
    meta: dict[str, Any]


def _norm_header(value: Any) -> str:
    return str(value or "").strip().lower().replace(" ", "_")


def _read_rows(ws: Any, sheet: str, required: Sequence[str]) -> list[SheetRow]:
    from pipeline.errors import ReviewError

    rows = ws.iter_rows(values_only=True)
    try:
        header = [_norm_header(v) for v in next(rows)]
    except StopIteration:
        raise ReviewError(f"{sheet}: the sheet is empty (no header row).") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewError(f"{sheet}: missing column(s) {', '.join(missing)}; was this sheet "
                          "written by `cenb run`?")
    out: list[SheetRow] = []
    for r, raw in enumerate(rows, start=2):
        if raw is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
            continue
        values: dict[str, Any] = {}
        for name, value in zip(header, raw):
            if not name:
                continue
            if name in REVIEW_COLUMNS:
                values[name] = value
            elif isinstance(value, str):
                values[name] = restore_text(value)
            else:
                values[name] = value
        out.append(SheetRow(sheet=sheet, row=r, values=values))
    return out


def read_review_sheet(path: Path) -> ReviewSheet:
    from pipeline.errors import ReviewError

    path = Path(path)
    if not path.exists():
        raise ReviewError(f"{path} does not exist.")
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-xlsx file
        raise ReviewError(f"{path} is not a readable .xlsx file ({exc}).") from exc
    for name in (GROUPS_SHEET, PARAGRAPHS_SHEET):
        if name not in wb.sheetnames:
            raise ReviewError(f"{path}: no sheet named {name!r}; was this sheet written by "
                              "`cenb run`?")
    reviewer = None
    if README_SHEET in wb.sheetnames:
        for a, b in wb[README_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
            if isinstance(a, str) and a.strip() == REVIEWER_LABEL:
                reviewer = str(b).strip() if b is not None and str(b).strip() else None
                break
    meta: dict[str, Any] = {}
    if META_SHEET in wb.sheetnames:
        for a, b in wb[META_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
            if a is not None:
                meta[str(a)] = restore_text(b) if isinstance(b, str) else b
    groups = _read_rows(wb[GROUPS_SHEET], GROUPS_SHEET,
                        ("group_id", "challenge", "paragraph_ids", "check") + REVIEW_COLUMNS)
    paragraphs = _read_rows(wb[PARAGRAPHS_SHEET], PARAGRAPHS_SHEET,
                            ("paragraph_id", "text", "challenges", "stakeholders",
                             "is_policy_option", "option_group", "check") + REVIEW_COLUMNS)
    wb.close()
    return ReviewSheet(path=path, reviewer=reviewer, groups=groups, paragraphs=paragraphs,
                       meta=meta)


def _prefill_of(row: SheetRow) -> dict[str, Any]:
    raw = row.get("prefill")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def row_has_input(row: SheetRow) -> bool:
    """The row holds something a reviewer typed (not only what the program pre-filled)."""
    pre = _prefill_of(row)
    for name in REVIEW_COLUMNS:
        value = row.review(name)
        expected = pre.get(name)
        expected = str(expected).strip() if expected not in (None, "") else None
        if value != expected:
            return True
    return False


def sheet_has_reviewer_input(path: Path) -> bool:
    """True when the sheet holds reviewer input (or cannot be read: then it is kept, to be safe)."""
    try:
        sheet = read_review_sheet(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable sheet is kept, never overwritten
        log.warning("cannot read %s (%s); keeping it", path, exc)
        return True
    if sheet.reviewer:
        return True
    return any(row_has_input(r) for r in sheet.groups + sheet.paragraphs)


def choose_review_path(out_dir: Path, now: datetime | None = None,
                       as_written: str | None = None) -> tuple[Path, str | None]:
    """Where to write this run's review sheet, and a message when it is not review.xlsx.
    `as_written`: the sha256 the previous run recorded for review.xlsx; a sheet that still has
    it is exactly what the program wrote, so it is replaced without being read."""
    target = Path(out_dir) / "review.xlsx"
    if not target.exists():
        return target, None
    if as_written and hashlib.sha256(target.read_bytes()).hexdigest() == as_written:
        return target, None
    if not sheet_has_reviewer_input(target):
        return target, None
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    alt = target.with_name(f"review-{stamp}.xlsx")
    n = 1
    while alt.exists():
        n += 1
        alt = target.with_name(f"review-{stamp}-{n}.xlsx")
    msg = (f"{target} holds reviewer input and was kept; this run's review sheet is {alt}. "
           f"Apply the reviewed one with `cenb review apply {target}`.")
    return alt, msg
