"""review.xlsx: the sheet in which a person confirms, rejects, relabels or merges candidates.

Sheets
- README: how to fill it in, and the reviewer-name cell.
- Groups: one row per candidate policy-option group.
- Paragraphs: one row per extracted paragraph, with its labels, scores and text.
- Lists (hidden): the values of the dropdowns. _meta (hidden): format version, run facts.
- Members (hidden, only when needed): the paragraph ids of a group too large for one cell.

Every cell that holds contributor text goes through cells.neutralise (formula characters
neutralised, typed as text; by write_cell, or by sheet_rows for the large sheets); no formula is
ever written. Hidden columns hold, per row, a check hash of the row's id and text (so `cenb
review apply` notices an edited id) and the values this program pre-filled from earlier
confirmed decisions (so a re-run can tell reviewer input from its own pre-fill and never
overwrites a reviewed sheet).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import astuple, dataclass
from datetime import datetime
from itertools import groupby
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import orjson
import xlsxwriter

from pipeline.report.areas import AREA_BY_KEY
from pipeline.report.grouping import GroupingResult, OptionGroup
from pipeline.report.model import ClassifiedParagraph
from pipeline.records import file_sha256
from pipeline.review.cells import CELL_LIMIT, restore_text, write_cell
from pipeline.review.confirmed import DECISIONS
from pipeline.review.sheet_rows import RowBlock, RowCache, splice_rows
from pipeline.taxonomy_keys import CHALLENGE_KEYS

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REVIEWER_LABEL = "Reviewer name"
GROUPS_SHEET = "Groups"
PARAGRAPHS_SHEET = "Paragraphs"
README_SHEET = "README"
LISTS_SHEET = "Lists"
META_SHEET = "_meta"
MEMBERS_SHEET = "Members"
# A group's paragraph_ids longer than one cell holds (CELL_LIMIT, about 1,500 paragraphs) are
# listed in the hidden Members sheet instead.
MEMBERS_NOTE = f"listed in the hidden sheet {MEMBERS_SHEET}"

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

HEADER_FORMAT = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3A5F",
                 "text_wrap": True, "valign": "vcenter"}
REVIEW_FORMAT = {"valign": "top", "bg_color": "#FFF4CC"}
NAME_FORMAT = {"bg_color": "#FFE082"}
WRAP_FORMAT = {"text_wrap": True, "valign": "top"}
TOP_FORMAT = {"valign": "top"}
# xlsxwriter would otherwise turn text that looks like a number, URL or formula into one
# constant_memory: each row goes to disk as soon as the next one starts (rows are written in
# order), with its strings inline instead of in a shared table: at 70,000 paragraphs the
# writer otherwise held 0.5 GB of cells until the end
_WORKBOOK_OPTIONS = {"strings_to_numbers": False, "strings_to_formulas": False,
                     "strings_to_urls": False, "constant_memory": True}


def row_check(kind: str, row_id: str, text: str) -> str:
    """Integrity hash of a row's id and text (an edited id or text no longer matches)."""
    return hashlib.sha256(f"{kind}\x1f{row_id}\x1f{text}".encode("utf-8")).hexdigest()[:16]


def group_check_text(group: OptionGroup) -> str:
    return group.challenge + "\x1f" + ",".join(group.paragraph_ids)


def _keys_text(keys: Iterable[str]) -> str:
    return ", ".join(keys)


_SOURCE_FILE_OF = attrgetter("para.source_file")
_KEY_RANK = {k: i for i, k in enumerate(CHALLENGE_KEYS)}
_KEY_SET = frozenset(CHALLENGE_KEYS)


def _scores_text(cp: ClassifiedParagraph) -> str:
    """The three highest challenge scores, ties in taxonomy order."""
    scores = cp.prediction.challenge_scores
    if scores.keys() == _KEY_SET:   # the model's own keys: taxonomy order without a sort
        items: Iterable[tuple[str, float]] = zip(CHALLENGE_KEYS,
                                                 map(scores.__getitem__, CHALLENGE_KEYS))
    else:
        items = sorted(scores.items(), key=lambda kv: _KEY_RANK.get(kv[0], 99))
    # a stable sort keeps that order among equal scores (also with reverse=True)
    top = sorted(items, key=itemgetter(1), reverse=True)[:3]
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


def _header(wb: Any, ws: Any, columns: Sequence[tuple[str, int]],
            wrapped: tuple[str, ...]) -> dict[str, int]:
    """Header row and column formats. Body cells are written without a format of their own and
    take their column's (wrapped, top-aligned, review columns shaded): one format per column
    instead of one per cell, which is most of what makes writing 70,000 rows fast."""
    header = wb.add_format(HEADER_FORMAT)
    formats = {"review": wb.add_format(REVIEW_FORMAT), "wrap": wb.add_format(WRAP_FORMAT),
               "top": wb.add_format(TOP_FORMAT)}
    index: dict[str, int] = {}
    for col, (name, width) in enumerate(columns):
        write_cell(ws, 0, col, name, header)
        kind = "review" if name in REVIEW_COLUMNS else "wrap" if name in wrapped else "top"
        ws.set_column(col, col, width, formats[kind],
                      {"hidden": True} if name in HIDDEN_COLUMNS else None)
        index[name] = col
    ws.freeze_panes(1, 1)
    return index


def _validations(ws: Any, cols: dict[str, int], last_row: int) -> None:
    """Dropdowns on the decision and relabel_to columns (rows 2..last_row, 1-based)."""
    last = max(last_row, 2) - 1
    ws.data_validation(1, cols["decision"], last, cols["decision"], {
        "validate": "list", "source": list(DECISIONS), "ignore_blank": True,
        "error_title": "Unknown decision",
        "error_message": "Choose accept, reject, relabel or merge."})
    ws.data_validation(1, cols["relabel_to"], last, cols["relabel_to"], {
        "validate": "list", "source": f"={LISTS_SHEET}!$A$2:$A${len(CHALLENGE_KEYS) + 1}",
        "ignore_blank": True, "error_title": "Unknown challenge key",
        "error_message": "Choose one of the 16 challenge keys."})


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
    "confirmed: an earlier reviewer decision. paragraph_ids (groups): the member paragraphs; a "
    "group too large for one cell lists them in the hidden sheet Members (leave it as it is).",
    "Text starting with = + - @ is shown with a leading apostrophe so that no spreadsheet "
    "program runs it as a formula.",
)


README_SECTIONS = ("How to review", "Decisions", "Applying", "Columns")


def _readme(wb: Any, ws: Any, meta: dict[str, Any]) -> None:
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 110, wb.add_format(WRAP_FORMAT))
    write_cell(ws, 0, 0, "cenb review sheet", wb.add_format({"bold": True, "font_size": 14}))
    write_cell(ws, 1, 0, "Generated")
    write_cell(ws, 1, 1, meta.get("generated_at", ""))
    write_cell(ws, 3, 0, REVIEWER_LABEL, wb.add_format({"bold": True}))
    write_cell(ws, 3, 1, None, wb.add_format(NAME_FORMAT))
    section = wb.add_format({"bold": True, "font_size": 12})
    for row, line in enumerate(README_LINES, start=5):
        if line in README_SECTIONS:
            write_cell(ws, row, 0, line, section)
        else:
            write_cell(ws, row, 1, line or None)


@dataclass
class SheetWriteResult:
    path: Path
    groups: int
    paragraphs: int
    prefilled: int


def _row(cols: dict[str, int], values: dict, pre: dict) -> list[Any]:
    """A row's values in column order, with a reviewer's earlier decisions pre-filled and kept
    as JSON in `prefill`."""
    if pre:
        values.update({k: v for k, v in pre.items() if v})
    values["prefill"] = json.dumps(pre, sort_keys=True) if pre else ""
    return [values.get(name) for name in cols]


def _paragraph_row(cp: ClassifiedParagraph, cols: dict[str, int],
                   paragraph_group: Mapping[str, str]) -> list[Any]:
    p = cp.para
    values = {
        "paragraph_id": p.paragraph_id, "source_file": p.source_file,
        "contributor": p.contributor, "page": p.page, "paragraph": p.paragraph,
        "heading": p.heading, "challenges": _keys_text(cp.challenges),
        "challenge_scores": _scores_text(cp), "stakeholders": _keys_text(cp.stakeholders),
        "is_policy_option": "yes" if cp.is_policy_option else "no",
        "option_group": paragraph_group.get(p.paragraph_id),
        "text": p.text,
        "confirmed": cp.confirmed.summary if cp.confirmed is not None else None,
        "check": row_check("paragraph", p.paragraph_id, p.text),
    }
    return _row(cols, values, _prefill_for_paragraph(cp))


def _paragraph_blocks(ordered: list[ClassifiedParagraph], cols: dict[str, int],
                      paragraph_group: Mapping[str, str],
                      file_states: Mapping[str, str]) -> list[RowBlock]:
    """The Paragraphs rows, one block per contribution. A contribution with a provenance state
    has a key: the state, and each paragraph's reviewer label and option group, the only
    values of its rows that do not follow from the state."""
    blocks: list[RowBlock] = []
    for source_file, run in groupby(ordered, key=_SOURCE_FILE_OF):
        cps = list(run)
        state = file_states.get(source_file)
        key = None
        if state is not None:
            key = orjson.dumps([PARAGRAPHS_SHEET, state, list(cols), [
                (paragraph_group.get(cp.para.paragraph_id),
                 None if cp.confirmed is None else astuple(cp.confirmed)) for cp in cps]]
                ).decode("utf-8")
        blocks.append(RowBlock(key, len(cps), lambda cps=cps: [
            _paragraph_row(cp, cols, paragraph_group) for cp in cps]))
    return blocks


def write_review_sheet(path: Path, grouping: GroupingResult,
                       paragraphs: Sequence[ClassifiedParagraph],
                       meta: dict[str, Any] | None = None,
                       row_cache: RowCache | None = None,
                       file_states: Mapping[str, str] | None = None) -> SheetWriteResult:
    """Write review.xlsx for one run (groups, every paragraph, README, dropdowns).
    file_states: source_file -> provenance state (ContributionMemo.states), under which the
    row cache keeps each contribution's paragraph rows as one block.

    Written with xlsxwriter (reading back uses openpyxl; openpyxl took 33 s at 70,000
    paragraphs, xlsxwriter 13 s), the Paragraphs rows by sheet_rows."""
    meta = dict(meta or {})
    meta.setdefault("generated_at", datetime.now().astimezone().isoformat(timespec="seconds"))
    meta["format_version"] = FORMAT_VERSION
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), _WORKBOOK_OPTIONS)
    _readme(wb, wb.add_worksheet(README_SHEET), meta)
    prefilled = 0

    # Each data sheet's header, columns, dropdowns and autofilter are xlsxwriter's; its rows are
    # spliced in after wb.close() (sheet_rows: a fifth of xlsxwriter's time per cell).
    spliced: dict[str, tuple[list[list[Any]], int]] = {}
    ws = wb.add_worksheet(GROUPS_SHEET)
    cols = _header(wb, ws, GROUP_COLUMNS, ("representative_wording", "contributors"))
    overflow: list[OptionGroup] = []
    rows: list[list[Any]] = []
    for g in grouping.groups:
        area = AREA_BY_KEY[g.challenge]
        ids = ", ".join(g.paragraph_ids)
        if len(ids) > CELL_LIMIT:
            overflow.append(g)
            ids = f"{len(g.paragraph_ids)} paragraphs, {MEMBERS_NOTE}"
        values: dict[str, Any] = {
            "group_id": g.group_id, "challenge": g.challenge, "area": area.heading,
            "support": g.support, "contributors": "; ".join(g.contributors),
            "stakeholder_groups": ", ".join(g.stakeholder_groups),
            "roles_addressed": _keys_text(g.roles), "confidence": round(g.confidence, 3),
            "representative_wording": g.representative.quote.text,
            "paragraph_ids": ids,
            "confirmed": f"{g.confirmed_count}/{len(g.paragraph_ids)}" if g.confirmed_count else "",
            "check": row_check("group", g.group_id, group_check_text(g)),
        }
        pre = _prefill_for_group(g)
        prefilled += bool(pre)
        rows.append(_row(cols, values, pre))
    _validations(ws, cols, len(grouping.groups) + 1)
    ws.autofilter(0, 0, len(grouping.groups), len(GROUP_COLUMNS) - 1)
    spliced[GROUPS_SHEET] = (rows, len(GROUP_COLUMNS))

    ws = wb.add_worksheet(PARAGRAPHS_SHEET)
    cols = _header(wb, ws, PARAGRAPH_COLUMNS, ("text", "heading"))
    ordered = sorted(paragraphs, key=ClassifiedParagraph.sort_key)
    prefilled += sum(1 for cp in ordered if _prefill_for_paragraph(cp))
    _validations(ws, cols, len(ordered) + 1)
    ws.autofilter(0, 0, len(ordered), len(PARAGRAPH_COLUMNS) - 1)
    spliced[PARAGRAPHS_SHEET] = (_paragraph_blocks(ordered, cols, grouping.paragraph_group,
                                                   file_states or {}), len(PARAGRAPH_COLUMNS))

    lists = wb.add_worksheet(LISTS_SHEET)
    write_cell(lists, 0, 0, "challenge_keys")
    write_cell(lists, 0, 1, "decisions")
    for i, key in enumerate(CHALLENGE_KEYS, start=1):
        write_cell(lists, i, 0, key)
    for i, d in enumerate(DECISIONS, start=1):
        write_cell(lists, i, 1, d)
    lists.hide()

    if overflow:
        members = wb.add_worksheet(MEMBERS_SHEET)
        write_cell(members, 0, 0, "group_id")
        write_cell(members, 0, 1, "paragraph_id")
        # a group's rows as one block, keyed by the rows themselves (one lookup per group)
        spliced[MEMBERS_SHEET] = ([RowBlock(orjson.dumps([MEMBERS_SHEET, g.group_id,
                                                          g.paragraph_ids]).decode("utf-8"),
                                            len(g.paragraph_ids),
                                            lambda g=g: [[g.group_id, pid]
                                                         for pid in g.paragraph_ids])
                                   for g in overflow], 2)
        members.hide()

    m = wb.add_worksheet(META_SHEET)
    for i, (k, v) in enumerate(sorted(meta.items())):
        write_cell(m, i, 0, k)
        write_cell(m, i, 1, v if isinstance(v, (int, float, bool)) or v is None else str(v))
    m.hide()
    wb.close()
    spliced = {name: v for name, v in spliced.items() if v[0]}
    if spliced:
        splice_rows(tmp, spliced, row_cache)
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


def _restore_members(groups: list[SheetRow], ws: Any) -> None:
    """Put back the paragraph_ids of groups too large for one cell (the row's check hash
    still covers them, so an edit in the Members sheet is caught like one in the row)."""
    members: dict[str, list[str]] = {}
    for gid, pid in ws.iter_rows(min_row=2, min_col=1, max_col=2, values_only=True):
        if gid is not None and pid is not None:
            members.setdefault(str(gid), []).append(str(pid))
    for row in groups:
        cell = row.get("paragraph_ids")
        if isinstance(cell, str) and cell.endswith(MEMBERS_NOTE):
            row.values["paragraph_ids"] = ", ".join(members.get(str(row.get("group_id")), []))


def read_review_sheet(path: Path) -> ReviewSheet:
    from openpyxl import load_workbook   # only here: most runs never read a sheet back

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
    if MEMBERS_SHEET in wb.sheetnames:
        _restore_members(groups, wb[MEMBERS_SHEET])
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
    if as_written and file_sha256(target) == as_written:
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
