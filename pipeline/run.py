"""`cenb run INPUT_DIR --out OUT_DIR`: the whole pipeline in one process.

extract (pipeline.extract.batch.extract_directory) -> classify (Predictor) -> reviewers'
confirmed labels (labels/confirmed/) -> option sentences, grouping, verified quotes ->
OUT_DIR/paragraphs.jsonl, quarantine.jsonl, report.html, report.docx, review.xlsx, run.json
(CONTRACTS.md). A progress bar per stage; returns the summary with the paths to open. Exit
status 0 even with quarantined files (the CLI prints the summary and returns normally).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.collector import collection_paused
from pipeline.config import Settings
from pipeline.errors import InputFormatError
from pipeline.process_exit import keep_until_exit
from pipeline.records import Paragraph, Prediction
from pipeline.report.build import (
    REPORT_STEPS,
    StepBar,
    attach_confirmed,
    build_report,
    summary_text,
    write_run_json,
)
from pipeline.report.model import ClassifiedParagraph, ReportInput
from pipeline.review.confirmed import load_confirmed

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.contribution_memo import ContributionMemo

log = logging.getLogger(__name__)
CLASSIFY_CHUNK = 256


def _check_dirs(input_dir: Path, out_dir: Path) -> None:
    if not input_dir.is_dir():
        raise InputFormatError(f"Input folder {input_dir} does not exist or is not a folder.")
    inp, out = input_dir.resolve(), out_dir.resolve()
    if out == inp or inp in out.parents:
        raise InputFormatError(
            f"The output folder {out_dir} is inside the input folder {input_dir}: a later run "
            "would read the reports as submissions. Choose an --out outside it.")


def classify_paragraphs(predictor: Any, paragraphs: list[Paragraph], progress: bool,
                        timings: dict[str, float] | None = None) -> list[Prediction]:
    """Predictions for every paragraph (heading as context), with a progress bar. The parse
    and embedding seconds go into `timings` as classify_parse / classify_embed."""
    from tqdm import tqdm

    inner: dict[str, float] = {}
    out: list[Prediction] = []
    with tqdm(total=len(paragraphs), desc="classify", unit="para", disable=not progress,
              leave=False, file=sys.stderr) as bar:
        for preds in predictor.predict_batches([p.text for p in paragraphs],
                                               [p.heading for p in paragraphs], progress,
                                               CLASSIFY_CHUNK, inner):
            out.extend(preds)
            bar.update(len(preds))
    if timings is not None:
        timings.update({f"classify_{k}": v for k, v in inner.items()})
    return out


def _open_memo(settings: Settings, predictor: Any) -> "ContributionMemo | None":
    """The contribution memo of this model's predictions (none without a prediction cache)."""
    from pipeline.contribution_memo import ContributionMemo

    cache = getattr(predictor, "prediction_cache", None)
    if cache is None:
        return None
    return ContributionMemo(settings.cache_dir / "contributions", cache.fingerprint)


def _predictions(predictor: Any, paragraphs: list[Paragraph], memo: "ContributionMemo | None",
                 progress: bool, timings: dict[str, float]
                 ) -> tuple[list[Prediction], dict[str, Prediction]]:
    """Each paragraph's prediction, in order: the memo's for the files it recalled, the
    predictor's for the rest; and the latter by paragraph id (the memo keeps them with their
    files once the report is made)."""
    if memo is None:
        return classify_paragraphs(predictor, paragraphs, progress, timings), {}
    known = memo.predictions
    todo = [p for p in paragraphs if p.paragraph_id not in known]
    fresh = dict(zip((p.paragraph_id for p in todo),
                     classify_paragraphs(predictor, todo, progress, timings)))
    return [known.get(p.paragraph_id) or fresh[p.paragraph_id] for p in paragraphs], fresh


@collection_paused()
def run_pipeline(input_dir: Path | str, out_dir: Path | str, settings: Settings,
                 manifest: Path | str | None = None, progress: bool = True) -> str:
    from pipeline.classify.predictor import Predictor
    from pipeline.extract.batch import extract_directory

    input_dir, out_dir = Path(input_dir), Path(out_dir)
    _check_dirs(input_dir, out_dir)
    started_at = datetime.now().astimezone()
    started = time.perf_counter()
    timings: dict[str, float] = {}

    predictor = Predictor.load(settings)  # ModelNotTrainedError says to run `cenb train`
    preloads: list[Any] = []

    def prepare_for_new_paragraphs(_n: int) -> None:
        # new files mean new paragraphs to parse and encode: a forked child loads the parser,
        # and a thread the encoder, while the workers extract the files
        predictor.start_parser()
        if predictor.embedder is not None:
            preloads.append(predictor.embedder.preload())

    # the files built and predicted by an earlier run come back from the memo as they were
    memo = _open_memo(settings, predictor)
    try:
        t = time.perf_counter()
        try:
            extracted = extract_directory(input_dir, settings, manifest=manifest,
                                          progress=progress,
                                          on_new_files=prepare_for_new_paragraphs, memo=memo)
        except BaseException:
            predictor.stop_parser()
            raise
        for thread in preloads:
            thread.join()
        timings["extract"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        paragraphs = sorted(extracted.paragraphs, key=lambda p: (p.source_file, p.paragraph))
        inner: dict[str, float] = {}
        try:
            predictions, fresh = _predictions(predictor, paragraphs, memo, progress, inner)
        finally:
            predictor.stop_parser()   # not needed: every new paragraph was in the caches
        classified = [ClassifiedParagraph(p, pred) for p, pred in zip(paragraphs, predictions)]
        timings["classify"] = round(time.perf_counter() - t, 3)
        timings.update(inner)

        confirmed = attach_confirmed(classified, load_confirmed(settings.labels_dir))
        inp = ReportInput(documents={d.source_file: d for d in extracted.documents},
                          paragraphs=classified, quarantine=list(extracted.quarantine),
                          input_dir=input_dir, files_seen=extracted.stats.files_seen,
                          known_quotes=memo.quotes if memo is not None else None,
                          file_states=(memo.states(extracted.memo_keys) if memo is not None
                                       else None))
        embedder = predictor.embedder
        bar = StepBar("report", REPORT_STEPS, progress)
        try:
            result = build_report(inp, lambda texts: embedder.encode(texts), settings, out_dir,
                                  progress=bar, model_id=getattr(embedder, "model_id", None),
                                  now=started_at)
        finally:
            bar.close()
        if memo is not None:   # this run's new files, with their predictions and quotes
            memo.save(fresh, result.quotes_made)
    finally:
        if memo is not None:
            memo.close()
    timings.update(result.timings)
    seconds = time.perf_counter() - started
    timings["total"] = round(seconds, 3)

    counts = {
        "files_seen": extracted.stats.files_seen,
        "files_with_text": len(extracted.documents),
        "files_quarantined": len(extracted.quarantine),
        "paragraphs": len(classified),
        **result.counts,
    }
    by_reason = extracted.quarantined_by_reason()
    run_path = out_dir / "run.json"
    write_run_json(run_path, {
        "command": "cenb run", "cenb_version": __version__,
        "input_dir": str(input_dir.resolve()), "out_dir": str(out_dir.resolve()),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "counts": {**counts, "quarantined_by_reason": by_reason,
                   "files_from_cache": extracted.stats.from_cache,
                   "files_from_memo": memo.recalled if memo is not None else 0,
                   "confirmed_labels_applied": confirmed},
        "timings": timings,
        "settings": {"group_threshold": settings.report.group_threshold,
                     "min_option_chars": settings.report.min_option_chars,
                     "embed_model": getattr(embedder, "model_id", settings.embed.model)},
        "model": predictor.describe() if hasattr(predictor, "describe") else None,
        "outputs": {k: str(p) for k, p in result.paths.items()},
        "output_sha256": result.output_sha256,
        "notes": result.notes,
        "warnings": list(extracted.stats.warnings),
    })
    paths = {**result.paths, "run": run_path}
    keep_until_exit(extracted, paragraphs, predictions, classified, inp, result, predictor)
    return summary_text(counts, paths, by_reason, result.notes, seconds)
