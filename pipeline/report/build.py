"""The report stage: group policy options, verify quotes, write every output of a run.

build_report() is called by `cenb run` (pipeline/run.py) with what extract and classify
produced in memory, and by `cenb report` / the DVC report stage through report_from_stages(),
which reads the interim tables and classified.parquet from disk.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline import __version__
from pipeline.config import Settings
from pipeline.records import QuarantineEntry
from pipeline.report.docx_report import write_docx
from pipeline.report.grouping import (
    Encoder,
    GroupingResult,
    SentenceFinder,
    collect_candidates,
    default_sentence_finder,
    group_options,
)
from pipeline.report.html import build_view, write_html
from pipeline.report.model import ClassifiedParagraph, ReportInput
from pipeline.report.quotes import QuoteBook
from pipeline.review.confirmed import ConfirmedLabel
from pipeline.review.sheet import choose_review_path, write_review_sheet
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("paragraphs.jsonl", "quarantine.jsonl", "report.html", "report.docx",
                "review.xlsx", "run.json")


@dataclass
class ReportResult:
    grouping: GroupingResult
    quotes: QuoteBook
    paths: dict[str, Path]
    review_message: str | None
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)


def attach_confirmed(paragraphs: Iterable[ClassifiedParagraph],
                     confirmed: dict[str, ConfirmedLabel]) -> int:
    """Give each paragraph its latest reviewer label (by stable paragraph id); returns how many."""
    n = 0
    for cp in paragraphs:
        label = confirmed.get(cp.para.paragraph_id)
        cp.confirmed = label
        n += label is not None
    return n


def paragraph_record(cp: ClassifiedParagraph, option_group: str | None) -> dict[str, Any]:
    """One line of paragraphs.jsonl (CONTRACTS.md fields first, then extras)."""
    p, pred = cp.para, cp.prediction
    rec: dict[str, Any] = {
        "source_file": p.source_file,
        "contributor": p.contributor,
        "page": p.page,
        "paragraph": p.paragraph,
        "text": p.text,
        "challenges": [k for k in CHALLENGE_KEYS if k in cp.challenges],
        "challenge_scores": {k: round(float(pred.challenge_scores.get(k, 0.0)), 6)
                             for k in CHALLENGE_KEYS},
        "stakeholders": [k for k in STAKEHOLDER_KEYS if k in cp.stakeholders],
        "stakeholder_scores": {k: round(float(pred.stakeholder_scores.get(k, 0.0)), 6)
                               for k in STAKEHOLDER_KEYS},
        "is_policy_option": bool(cp.is_policy_option),
        "option_group": option_group,
        "paragraph_id": p.paragraph_id,
        "heading": p.heading,
        "kind": p.kind,
        "char_start": p.char_start,
        "char_end": p.char_end,
        "language": p.language,
        "organisation": p.organisation,
        "stakeholder_group": p.stakeholder_group,
        "label_source": "review" if cp.confirmed is not None else "model",
    }
    if cp.confirmed is not None:
        c = cp.confirmed
        rec["review"] = {"decision": c.decision, "reviewer": c.reviewer,
                         "confirmed_at": c.confirmed_at, "relabel_to": c.relabel_to,
                         "merge_into": c.merge_into}
        rec["model"] = {"challenges": list(pred.challenges),
                        "stakeholders": list(pred.stakeholders),
                        "is_policy_option": bool(pred.is_policy_option)}
    return rec


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def write_paragraphs(path: Path, paragraphs: list[ClassifiedParagraph],
                     grouping: GroupingResult) -> int:
    ordered = sorted(paragraphs, key=ClassifiedParagraph.sort_key)
    return _write_jsonl(path, (paragraph_record(cp, grouping.paragraph_group.get(
        cp.para.paragraph_id)) for cp in ordered))


def write_quarantine(path: Path, entries: list[QuarantineEntry]) -> int:
    rows = ({"source_file": q.source_file, "reason": q.reason, "detail": q.detail,
             "file_sha256": q.file_sha256}
            for q in sorted(entries, key=lambda q: q.source_file))
    return _write_jsonl(path, rows)


def _stage(timings: dict[str, float], name: str, started: float) -> None:
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - started, 3)


def build_report(
    inp: ReportInput,
    encode: Encoder,
    settings: Settings,
    out_dir: Path,
    *,
    find_sentences: SentenceFinder | None = None,
    progress: Callable[[str], None] | None = None,
    model_id: str | None = None,
    now: datetime | None = None,
) -> ReportResult:
    """Group, verify and write paragraphs.jsonl, quarantine.jsonl, report.html/.docx, review."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now().astimezone()
    timings: dict[str, float] = {}
    step = progress or (lambda _msg: None)
    rs = settings.report

    step("grouping policy options")
    t = time.perf_counter()
    quotes = QuoteBook(inp.documents)
    finder = find_sentences or default_sentence_finder()
    candidates = collect_candidates(inp.paragraphs, quotes, finder, rs.min_option_chars)
    grouping = group_options(candidates, encode, rs.group_threshold)
    _stage(timings, "group", t)

    paths: dict[str, Path] = {}
    step("writing paragraphs.jsonl, quarantine.jsonl")
    t = time.perf_counter()
    paths["paragraphs"] = out_dir / "paragraphs.jsonl"
    write_paragraphs(paths["paragraphs"], inp.paragraphs, grouping)
    paths["quarantine"] = out_dir / "quarantine.jsonl"
    write_quarantine(paths["quarantine"], inp.quarantine)
    _stage(timings, "write_jsonl", t)

    meta = {"version": __version__, "generated_at": now.strftime("%Y-%m-%d %H:%M"),
            "input_dir": str(inp.input_dir) if inp.input_dir is not None else None,
            "model": model_id}
    step("writing report.html")
    t = time.perf_counter()
    view = build_view(inp, grouping, quotes, out_dir, rs.title, meta)
    paths["html"] = write_html(out_dir / "report.html", view)
    _stage(timings, "write_html", t)

    step("writing report.docx")
    t = time.perf_counter()
    paths["docx"] = write_docx(out_dir / "report.docx", inp, grouping, rs.title,
                               generated_at=now.strftime("%d %B %Y"))
    _stage(timings, "write_docx", t)

    step("writing review.xlsx")
    t = time.perf_counter()
    review_path, message = choose_review_path(out_dir, now=now)
    write_review_sheet(review_path, grouping, inp.paragraphs,
                       meta={"generated_at": now.isoformat(timespec="seconds"),
                             "input_dir": meta["input_dir"] or "",
                             "group_threshold": rs.group_threshold,
                             "cenb_version": __version__})
    paths["review"] = review_path
    if message:
        log.warning(message)
    _stage(timings, "write_review", t)

    counts = {
        "policy_option_paragraphs": sum(1 for cp in inp.paragraphs if cp.is_policy_option),
        "option_sentences": len({c.quote.quote_id for c in candidates}),
        "option_groups": len(grouping.groups),
        "option_groups_multi": sum(1 for g in grouping.groups if g.support > 1),
        "quotes": sum(len(g.members) for g in grouping.groups),
        "quotes_dropped": quotes.dropped_total,
        "quotes_dropped_by_reason": dict(sorted(quotes.dropped.items())),
        "confirmed_paragraphs": sum(1 for cp in inp.paragraphs if cp.confirmed is not None),
    }
    return ReportResult(grouping=grouping, quotes=quotes, paths=paths, review_message=message,
                        timings=timings, counts=counts)
