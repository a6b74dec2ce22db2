"""The console script's process settings."""

from __future__ import annotations

import gc

from typer.testing import CliRunner

from pipeline.cli import GC_THRESHOLDS, app


def test_commands_run_with_the_larger_gc_thresholds(tmp_path):
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        result = CliRunner().invoke(app, ["review", "apply", str(tmp_path / "missing.xlsx")])
        assert result.exit_code == 2 and "does not exist" in result.output
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
