"""The `cenb` console script: a thin Typer layer over typed functions notebooks can import.

Each command imports its stage lazily so `cenb --help` and light commands stay fast (torch and
spaCy load only where needed). Errors raised on purpose (CenbError) become one clear line on
stderr and exit status 2; nothing else is swallowed.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from pipeline.config import Settings, load_settings
from pipeline.errors import CenbError
from pipeline.process_exit import exit_if_keeping, keep_objects_until_exit

app = typer.Typer(
    name="cenb",
    help="Turn contributions (Word, PDF) to the IGF BPF on Cybersecurity into a labelled, "
    "attributed report of candidate policy options.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
review_app = typer.Typer(help="Apply a reviewer's decisions from review.xlsx.", no_args_is_help=True)
app.add_typer(review_app, name="review")

# A run holds millions of long-lived objects (paragraphs, predictions, quotes), and CPython's
# default thresholds (700, 10, 10) traverse them again and again while a stage creates hundreds
# of thousands more: at 3,000 contributions reading the cached predictions back took 2.9 s
# instead of 1.9 s, and collecting the candidate quotes 2.3 s instead of 1.7 s. Full collections
# still run (every 10 million allocations at most); the peak memory of a re-run did not change
# measurably (1.45-1.62 GiB either way, PSS of the process tree).
# `cenb run` and `cenb report` go further and pause collection while they run
# (pipeline/collector.py).
GC_THRESHOLDS = (50_000, 20, 10)


@app.callback()
def _process_settings() -> None:
    """Settings of the command-line process (not of a notebook importing the package)."""
    gc.set_threshold(*GC_THRESHOLDS)


ParamsOpt = typer.Option(None, "--params", help="params.yaml to use (default: the project's).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


def _settings(params: Optional[Path]) -> Settings:
    return load_settings(params)


def _fail(exc: CenbError) -> None:
    typer.secho(f"cenb: {exc}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=2)


@app.command()
def extract(
    input_dir: Path = typer.Argument(..., help="Folder of submissions (searched recursively)."),
    out: Path = typer.Option(None, "--out", help="Where to write the parquet tables "
                             "(default: paths.interim_dir of params.yaml)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="CSV naming contributors "
                                            "(default: INPUT_DIR/manifest.csv or corpus/manifest.csv)."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Extract paragraphs with provenance from every file; quarantine what cannot be read."""
    from pipeline.extract.batch import extract_directory, print_summary
    from pipeline.extract.store import write_interim

    try:
        settings = _settings(params)
        result = extract_directory(input_dir, settings, manifest=manifest, progress=not quiet)
        paths = write_interim(result, out or settings.interim_dir)
    except CenbError as exc:
        _fail(exc)
    print_summary(result)
    typer.echo(f"Wrote {', '.join(str(p) for p in paths)}")


@app.command()
def embed(
    interim: Path = typer.Option(None, "--interim", help="Folder written by `cenb extract`."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the paragraphs' vectors "
                                       "to this .npz (paragraph_id, vectors)."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Encode every extracted paragraph into the embedding cache (only new texts are encoded)."""
    from pipeline.classify.embeddings import embed_interim

    try:
        settings = _settings(params)
        stats = embed_interim(interim or settings.interim_dir, settings, progress=not quiet,
                              out=out)
    except CenbError as exc:
        _fail(exc)
    typer.echo(json.dumps(stats))


@app.command()
def train(
    params: Optional[Path] = ParamsOpt,
    no_mlflow: bool = typer.Option(False, "--no-mlflow", help="Do not log the run to MLflow."),
    quiet: bool = QuietOpt,
) -> None:
    """Fit the classifiers from labels/ and write models/ (metrics to models/metrics.json)."""
    from pipeline.classify.train import train_model
    from pipeline.tracking import run_tags

    try:
        tags = run_tags("train") if not no_mlflow else None
        report = train_model(_settings(params), log_mlflow=not no_mlflow, progress=not quiet,
                             extra_tags=tags)
    except CenbError as exc:
        _fail(exc)
    typer.echo(report.summary())


@app.command()
def predict(
    input: Optional[Path] = typer.Option(None, "--input", help="JSONL (id, text), CSV or parquet "
                                         "with a `text` column."),
    output: Optional[Path] = typer.Option(None, "--output", help="JSONL, one object per input row."),
    text: Optional[str] = typer.Option(None, "--text", help="Classify one text and print the result."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Label texts with challenge areas, stakeholder roles and whether they propose a policy option."""
    from pipeline.classify.predict_io import predict_file, predict_text_readable

    try:
        settings = _settings(params)
        if text is not None:
            typer.echo(predict_text_readable(text, settings))
            return
        if input is None or output is None:
            raise typer.BadParameter("give --input and --output, or --text")
        n = predict_file(input, output, settings, progress=not quiet)
    except CenbError as exc:
        _fail(exc)
    typer.echo(f"Wrote {n} predictions to {output}", err=True)


@app.command()
def evaluate(
    gold: Path = typer.Option(..., "--gold", help="JSONL/CSV with `text` and `challenge` "
                              "(and optionally `stakeholders`, `is_policy_option`)."),
    out: Path = typer.Option(None, "--out", help="Folder for metrics JSON and confusion-matrix PNG "
                             "(default: reports/evaluation)."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Per-label precision/recall/F1 and a confusion matrix for any labelled file."""
    from pipeline.classify.evaluate import evaluate_gold

    try:
        settings = _settings(params)
        result = evaluate_gold(gold, out or settings.reports_dir / "evaluation", settings,
                               progress=not quiet)
    except CenbError as exc:
        _fail(exc)
    typer.echo(result.summary())


@app.command()
def classify(
    interim: Path = typer.Option(None, "--interim", help="Folder written by `cenb extract`."),
    out: Path = typer.Option(None, "--out", help="Where to write classified.parquet "
                             "(default: paths.processed_dir)."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Classify every extracted paragraph with the trained model."""
    from pipeline.classify.batch import classify_interim

    try:
        settings = _settings(params)
        path = classify_interim(interim or settings.interim_dir, out or settings.processed_dir,
                                settings, progress=not quiet)
    except CenbError as exc:
        _fail(exc)
    typer.echo(f"Wrote {path}")


@app.command()
def report(
    processed: Path = typer.Option(None, "--processed", help="Folder written by `cenb classify`."),
    interim: Path = typer.Option(None, "--interim", help="Folder written by `cenb extract`."),
    out: Path = typer.Option(..., "--out", help="Folder for report.html, report.docx, review.xlsx..."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Group policy options and write the HTML/Word reports and the review sheet."""
    from pipeline.report.build import report_from_stages

    try:
        settings = _settings(params)
        summary = report_from_stages(interim or settings.interim_dir,
                                     processed or settings.processed_dir, out, settings,
                                     progress=not quiet)
    except CenbError as exc:
        _fail(exc)
    typer.echo(summary)
    exit_if_keeping()


@app.command()
def run(
    input_dir: Path = typer.Argument(..., help="Folder of submissions (searched recursively)."),
    out: Path = typer.Option(..., "--out", help="Output folder (see CONTRACTS.md)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="CSV naming contributors."),
    params: Optional[Path] = ParamsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """The whole pipeline: extract, classify, group, report. Exit 0 even with quarantined files."""
    from pipeline.run import run_pipeline

    try:
        summary = run_pipeline(input_dir, out, _settings(params), manifest=manifest,
                               progress=not quiet)
    except CenbError as exc:
        _fail(exc)
    typer.echo(summary)
    exit_if_keeping()


@review_app.command("apply")
def review_apply(
    sheet: Path = typer.Argument(..., help="A review.xlsx filled in by a reviewer."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Who reviewed (default: the "
                                           "sheet's reviewer cell, else the login name)."),
    params: Optional[Path] = ParamsOpt,
) -> None:
    """Validate the sheet's decisions and store them under labels/ as confirmed labels."""
    from pipeline.review.apply import apply_review

    try:
        summary = apply_review(sheet, _settings(params), reviewer=reviewer)
    except CenbError as exc:
        _fail(exc)
    typer.echo(summary)


def main() -> None:
    """The console script: a process that ends with its command, so `run` and `report` leave
    without freeing their objects one by one (pipeline/process_exit.py)."""
    keep_objects_until_exit()
    app(prog_name="cenb")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
