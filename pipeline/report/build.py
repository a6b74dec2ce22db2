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
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from pipeline import __version__
from pipeline.collector import collection_paused
from pipeline.config import Settings
from pipeline.process_exit import keep_until_exit
from pipeline.records import QuarantineEntry, file_sha256
from pipeline.report.cluster_cache import ClusterCache
from pipeline.report.docx_report import write_docx
from pipeline.forked import ForkedCall
from pipeline.report.fragment_cache import FragmentCache
from pipeline.report.grouping import (
    Encoder,
    GroupingResult,
    collect_candidates,
    group_options,
    settle_facts,
)
from pipeline.report.html import build_view, write_html
from pipeline.report.model import ClassifiedParagraph, ReportInput
from pipeline.report.option_quotes import ParagraphQuotes, SentenceFinder, default_sentence_finder
from pipeline.report.quotes import QuoteBook
from pipeline.review.confirmed import ConfirmedLabel
from pipeline.review.sheet import choose_review_path, write_review_sheet
from pipeline.review.sheet_rows import RowCache
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("paragraphs.jsonl", "quarantine.jsonl", "report.html", "report.docx",
                "review.xlsx", "run.json")


@dataclass
class ReportResult:
    grouping: GroupingResult
    quotes: QuoteBook
    paths: dict[str, Path]
    notes: str | None
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    output_sha256: dict[str, str] = field(default_factory=dict)  # as written (edit detection)
    # the option quotes made in this run of paragraphs without inp.known_quotes (paragraph id ->)
    quotes_made: dict[str, ParagraphQuotes] = field(default_factory=dict)


def attach_confirmed(paragraphs: Iterable[ClassifiedParagraph],
                     confirmed: dict[str, ConfirmedLabel]) -> int:
    """Give each paragraph its latest reviewer label (by stable paragraph id); returns how many."""
    n = 0
    for cp in paragraphs:
        label = confirmed.get(cp.para.paragraph_id)
        cp.confirmed = label
        n += label is not None
    return n


def _rounded(scores: dict[str, float], keys: tuple[str, ...]) -> dict[str, float]:
    """{key: score rounded to 6 places} in taxonomy order; map() keeps the 1.6 million
    round() calls of a 3,000-contribution run out of the interpreter loop."""
    return dict(zip(keys, map(round, map(float, map(scores.get, keys, repeat(0.0))),
                              repeat(6))))


def paragraph_record(cp: ClassifiedParagraph, option_group: str | None) -> dict[str, Any]:
    """One line of paragraphs.jsonl (CONTRACTS.md fields first, then extras)."""
    p, pred = cp.para, cp.prediction
    challenges, stakeholders = set(cp.challenges), set(cp.stakeholders)
    rec: dict[str, Any] = {
        "source_file": p.source_file,
        "contributor": p.contributor,
        "page": p.page,
        "paragraph": p.paragraph,
        "text": p.text,
        "challenges": [k for k in CHALLENGE_KEYS if k in challenges],
        "challenge_scores": _rounded(pred.challenge_scores, CHALLENGE_KEYS),
        "stakeholders": [k for k in STAKEHOLDER_KEYS if k in stakeholders],
        "stakeholder_scores": _rounded(pred.stakeholder_scores, STAKEHOLDER_KEYS),
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
                         "reviewed_at": c.reviewed_at, "relabel_to": c.relabel_to,
                         "merge_into": c.merge_into}
        rec["model"] = {"challenges": list(pred.challenges),
                        "stakeholders": list(pred.stakeholders),
                        "is_policy_option": bool(pred.is_policy_option)}
    return rec


def _write_lines(path: Path, lines: Iterable[bytes]) -> int:
    """Written beside path and moved into place (a reader never sees half a file); returns
    how many lines."""
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("wb") as fh:
        for line in lines:
            fh.write(line)
            n += 1
    tmp.replace(path)
    return n


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    # orjson: UTF-8 bytes, 5x faster than json (2 s at 3,000)
    return _write_lines(path, (orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
                               for row in rows))


_GROUP_KEY = b',"option_group":'
_NO_GROUP = _GROUP_KEY + b"null"
PreparedLine = tuple[str, bytes, bytes]   # paragraph id, the line up to its group, the rest


def prepare_paragraph_lines(paragraphs: Iterable[ClassifiedParagraph]) -> list[PreparedLine]:
    """Each paragraph's line of paragraphs.jsonl in file order, cut where its option_group
    goes: the lines are made while the options are being grouped (in a forked child at 3,000
    contributions, 1.5 s on the other core) and completed with the groups afterwards. The
    first `,"option_group":` of a line is the key itself: inside a JSON string every '"' is
    escaped."""
    out: list[PreparedLine] = []
    for cp in sorted(paragraphs, key=ClassifiedParagraph.sort_key):
        line = orjson.dumps(paragraph_record(cp, None), option=orjson.OPT_APPEND_NEWLINE)
        cut = line.index(_NO_GROUP)
        out.append((cp.para.paragraph_id, line[:cut + len(_GROUP_KEY)],
                    line[cut + len(_NO_GROUP):]))
    return out


def write_paragraphs(path: Path, lines: list[PreparedLine],
                     paragraph_group: dict[str, str]) -> int:
    """paragraphs.jsonl from the prepared lines and each paragraph's group (paragraph id ->
    group id; none: null)."""
    return _write_lines(path, (head + orjson.dumps(paragraph_group.get(pid)) + rest
                               for pid, head, rest in lines))


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

    paths: dict[str, Path] = {}
    meta = {"version": __version__, "generated_at": now.strftime("%Y-%m-%d %H:%M"),
            "input_dir": str(inp.input_dir) if inp.input_dir is not None else None,
            "model": model_id}
    paragraphs_path = out_dir / "paragraphs.jsonl"
    docx_path, docx_message, docx_kept_hash = choose_docx_path(out_dir, now)
    # a review.xlsx byte-identical to the one the previous run wrote holds no reviewer input:
    # it is replaced without reading it back (reading took as long as writing it)
    review_path, message = choose_review_path(
        out_dir, now=now, as_written=recorded_sha256(out_dir, "review.xlsx"))

    def write_paragraphs_in_child(receive: Callable[[], Any]) -> dict[str, Any]:
        times: dict[str, float] = {}
        t = time.perf_counter()
        lines = prepare_paragraph_lines(inp.paragraphs)
        _stage(times, "prepare_jsonl", t)
        groups = receive()
        t = time.perf_counter()
        write_paragraphs(paragraphs_path, lines, groups)
        _stage(times, "write_jsonl", t)
        return times

    # paragraphs.jsonl is made on the other core while the options are grouped (about 1.5 s
    # of a one-file re-run at 3,000 contributions); only the paragraphs' groups come later
    lines_child = ForkedCall(write_paragraphs_in_child, "writing paragraphs.jsonl",
                             takes_input=True)
    step("grouping policy options")
    t = time.perf_counter()
    try:
        quotes = QuoteBook(inp.documents)
        finder = find_sentences or default_sentence_finder()
        quotes_made: dict[str, ParagraphQuotes] = {}
        candidates = collect_candidates(inp.paragraphs, quotes, finder, rs.min_option_chars,
                                        known=inp.known_quotes, made=quotes_made)
        # cached clusters and medoids are those of this encoder: none without its id
        clusters = ClusterCache(settings.cache_dir / "groups", model_id) if model_id else None
        try:
            grouping = group_options(candidates, encode, rs.group_threshold, clusters,
                                     inp.file_states)
        finally:
            if clusters is not None:
                clusters.close()
        lines_child.send(grouping.paragraph_group)
        # every group's facts are in place before the review sheet's writer forks (it shares
        # them instead of computing them again)
        settle_facts(grouping.groups)
    except BaseException:
        lines_child.cancel()
        raise
    _stage(timings, "group", t)

    def write_in_child() -> dict[str, Any]:
        times: dict[str, float] = {}
        t = time.perf_counter()
        rows = RowCache(settings.cache_dir / "review")
        try:
            write_review_sheet(review_path, grouping, inp.paragraphs,
                               meta={"generated_at": now.isoformat(timespec="seconds"),
                                     "input_dir": meta["input_dir"] or "",
                                     "group_threshold": rs.group_threshold,
                                     "cenb_version": __version__}, row_cache=rows,
                               file_states=inp.file_states)
        finally:
            rows.close()
        _stage(times, "write_review", t)
        t = time.perf_counter()
        write_docx(docx_path, inp, grouping, rs.title, generated_at=now.strftime("%d %B %Y"))
        _stage(times, "write_docx", t)
        return times

    # the review sheet and the Word report are written beside the HTML report (at 3,000
    # contributions, with the review sheet's rows kept by contribution, about as long as it)
    background = ForkedCall(write_in_child, "writing review.xlsx and report.docx")
    try:
        step("writing quarantine.jsonl")
        paths["paragraphs"] = paragraphs_path   # written by lines_child
        paths["quarantine"] = out_dir / "quarantine.jsonl"
        write_quarantine(paths["quarantine"], inp.quarantine)

        step("writing report.html")
        t = time.perf_counter()
        view = build_view(inp, grouping, quotes, out_dir, rs.title, meta)
        fragments = FragmentCache(settings.cache_dir / "report")
        try:
            paths["html"] = write_html(out_dir / "report.html", view, fragments)
        finally:
            fragments.close()
        del view   # its per-paragraph structure is large
        _stage(timings, "write_html", t)
    except BaseException:
        background.cancel()
        lines_child.cancel()
        raise

    step("writing review.xlsx, report.docx, paragraphs.jsonl")
    t = time.perf_counter()
    timings.update({k: float(v) for k, v in background.result().items()})
    timings.update({k: float(v) for k, v in lines_child.result().items()})
    timings["write_wait"] = round(time.perf_counter() - t, 3)
    paths["docx"] = docx_path
    paths["review"] = review_path
    if message:
        log.warning(message)
    messages = [m for m in (docx_message, message) if m]

    counts = {
        "policy_option_paragraphs": sum(1 for cp in inp.paragraphs if cp.is_policy_option),
        "option_sentences": len({c.quote.quote_id for c in candidates}),
        "option_groups": len(grouping.groups),
        "option_groups_multi": sum(1 for g in grouping.groups if g.support > 1),
        "areas_clustered": grouping.areas_clustered,
        "areas_clusters_from_cache": grouping.areas_from_cache,
        "areas_grown": grouping.areas_grown,
        "quotes": sum(len(g.members) for g in grouping.groups),
        "quotes_dropped": quotes.dropped_total,
        "quotes_dropped_by_reason": dict(sorted(quotes.dropped.items())),
        "confirmed_paragraphs": sum(1 for cp in inp.paragraphs if cp.confirmed is not None),
    }
    hashes = {paths["docx"].name: file_sha256(paths["docx"]),
              review_path.name: file_sha256(review_path)}
    if docx_kept_hash:  # the kept, edited report.docx stays "edited" for the next run too
        hashes["report.docx"] = docx_kept_hash
    return ReportResult(grouping=grouping, quotes=quotes, paths=paths,
                        notes="\n".join(messages) or None, timings=timings,
                        counts=counts, output_sha256=hashes, quotes_made=quotes_made)


def recorded_sha256(out_dir: Path, name: str) -> str | None:
    """The sha256 the previous run recorded in run.json for its output `name`, if any."""
    run_json = out_dir / "run.json"
    if not run_json.exists():
        return None
    try:
        recorded = json.loads(run_json.read_text(encoding="utf-8")).get("output_sha256", {})
    except (OSError, ValueError, AttributeError):
        return None
    value = recorded.get(name) if isinstance(recorded, dict) else None
    return value if isinstance(value, str) else None


def choose_docx_path(out_dir: Path, now: datetime) -> tuple[Path, str | None, str | None]:
    """report.docx, unless the one there was edited since the run that wrote it (its sha256 no
    longer matches run.json): then that edited draft is kept and the new one goes beside it.
    Returns (path, message, the recorded hash of the kept draft)."""
    target = out_dir / "report.docx"
    if not target.exists():
        return target, None, None
    expected = recorded_sha256(out_dir, target.name)
    if not expected or expected == file_sha256(target):
        return target, None, None
    alt = target.with_name(f"report-{now.strftime('%Y%m%d-%H%M%S')}.docx")
    return alt, (f"{target} was edited since it was generated and was kept; this run's Word "
                 f"draft is {alt}."), expected


# ---------------------------------------------------------------- run.json, summary, DVC stage

class StepBar:
    """A per-stage progress bar over named steps (tqdm on stderr; silent when disabled)."""

    def __init__(self, desc: str, total: int, enabled: bool) -> None:
        import sys

        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False,
                        file=sys.stderr)
        self._started = False

    def __call__(self, message: str) -> None:
        if self._started:
            self.bar.update(1)
        self._started = True
        self.bar.set_postfix_str(message, refresh=True)

    def close(self) -> None:
        if self._started:
            self.bar.update(1)
        self.bar.close()


REPORT_STEPS = 4  # grouping, quarantine, html, the children's outputs (build_report's)


def write_run_json(path: Path, data: dict[str, Any]) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def summary_text(counts: dict[str, Any], paths: dict[str, Path], quarantined_by_reason:
                 dict[str, int], notes: str | None, seconds: float) -> str:
    """What a person reads at the end of a run: what happened and the paths to open."""
    q = counts.get("files_quarantined", 0)
    reasons = ", ".join(f"{r}: {n}" for r, n in quarantined_by_reason.items())
    lines = [
        f"Read {counts.get('files_seen', 0)} file(s): {counts.get('files_with_text', 0)} with "
        f"text ({counts.get('paragraphs', 0)} paragraphs), {q} quarantined"
        + (f" ({reasons})" if reasons else "") + f" in {seconds:.1f} s.",
        f"Found {counts.get('option_groups', 0)} candidate policy option(s) "
        f"({counts.get('option_groups_multi', 0)} backed by several contributions) with "
        f"{counts.get('quotes', 0)} verified quote(s)"
        + (f"; {counts['quotes_dropped']} quote(s) failed verification and were left out"
           if counts.get("quotes_dropped") else "") + ".",
    ]
    if counts.get("confirmed_paragraphs"):
        lines.append(f"{counts['confirmed_paragraphs']} paragraph(s) carry a reviewer's "
                     "confirmed label.")
    lines.append("")
    labels = [("Report", "html"), ("Word draft", "docx"), ("Review sheet", "review"),
              ("Paragraphs", "paragraphs"), ("Quarantine", "quarantine"), ("Run facts", "run")]
    for label, key in labels:
        if key in paths:
            lines.append(f"  {label + ':':<14}{paths[key]}")
    if notes:
        lines += ["", f"Note: {notes}"]
    if q:
        lines += ["", f"{q} file(s) could not be read; see {paths.get('quarantine')} for why."]
    return "\n".join(lines)


def _guess_input_dir(settings: Settings, documents: Iterable[Any]) -> Path | None:
    """The submissions folder for links in the report, when the DVC stage does not say: a
    corpus/raw (beside the params file, or the project's) holding every document."""
    from pipeline import PROJECT_ROOT

    docs = list(documents)
    for candidate in (settings.resolve(Path("corpus/raw")), PROJECT_ROOT / "corpus" / "raw"):
        if docs and all((candidate / d.source_file).is_file() for d in docs):
            return candidate
    return None


@collection_paused()
def report_from_stages(interim_dir: Path, processed_dir: Path, out_dir: Path,
                       settings: Settings, progress: bool = True,
                       input_dir: Path | None = None) -> str:
    """The DVC report stage: read corpus/interim and classified.parquet, write the outputs."""
    import pyarrow.parquet as pq

    from pipeline.classify.embeddings import Embedder
    from pipeline.errors import InputFormatError
    from pipeline.extract.store import read_interim
    from pipeline.report.model import prediction_from_row
    from pipeline.review.confirmed import load_confirmed

    started = time.perf_counter()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    extracted = read_interim(interim_dir)
    classified_path = Path(processed_dir) / "classified.parquet"
    if not classified_path.is_file():
        raise InputFormatError(f"{classified_path} does not exist: run `cenb classify` first.")
    rows = {str(r["paragraph_id"]): r for r in pq.read_table(classified_path).to_pylist()}
    missing = [p.paragraph_id for p in extracted.paragraphs if p.paragraph_id not in rows]
    if missing:
        raise InputFormatError(
            f"{classified_path} has no classification for {len(missing)} extracted "
            f"paragraph(s) (e.g. {missing[0]}): it is older than {interim_dir}; run "
            "`cenb classify` again.")
    paragraphs = [ClassifiedParagraph(p, prediction_from_row(rows[p.paragraph_id]))
                  for p in extracted.paragraphs]
    documents = {d.source_file: d for d in extracted.documents}
    attach_confirmed(paragraphs, load_confirmed(settings.labels_dir))
    inp = ReportInput(documents=documents, paragraphs=paragraphs,
                      quarantine=list(extracted.quarantine),
                      input_dir=input_dir or _guess_input_dir(settings, documents.values()),
                      files_seen=extracted.stats.files_seen or None)
    timings["read"] = round(time.perf_counter() - t, 3)
    embedder = Embedder(settings)
    bar = StepBar("report", REPORT_STEPS, progress)
    try:
        result = build_report(inp, lambda texts: embedder.encode(texts), settings, out_dir,
                              progress=bar, model_id=embedder.model_id)
    finally:
        bar.close()
        embedder.close()
    timings.update(result.timings)
    seconds = time.perf_counter() - started
    timings["total"] = round(seconds, 3)
    files_seen = extracted.stats.files_seen or (len(documents) + len(inp.quarantine))
    counts = {"files_seen": files_seen, "files_with_text": len(documents),
              "files_quarantined": len(inp.quarantine), "paragraphs": len(paragraphs),
              **result.counts}
    by_reason = extracted.quarantined_by_reason()
    run_path = Path(out_dir) / "run.json"
    write_run_json(run_path, {
        "command": "cenb report", "cenb_version": __version__,
        "interim_dir": str(Path(interim_dir).resolve()),
        "processed_dir": str(Path(processed_dir).resolve()),
        "out_dir": str(Path(out_dir).resolve()),
        "counts": {**counts, "quarantined_by_reason": by_reason},
        "timings": timings,
        "settings": {"group_threshold": settings.report.group_threshold,
                     "min_option_chars": settings.report.min_option_chars,
                     "embed_model": embedder.model_id},
        "outputs": {k: str(p) for k, p in result.paths.items()},
        "output_sha256": result.output_sha256,
        "notes": result.notes,
    })
    paths = {**result.paths, "run": run_path}
    keep_until_exit(extracted, rows, paragraphs, documents, inp, result)
    return summary_text(counts, paths, by_reason, result.notes, seconds)
