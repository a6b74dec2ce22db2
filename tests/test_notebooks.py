"""The analyst notebooks run top to bottom on the sample corpus, and are stored without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
CORPUS = PROJECT_ROOT / "corpus" / "raw"
pytestmark = pytest.mark.slow


def test_the_two_analyst_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"1.0-explore-predictions.ipynb", "2.0-error-analysis.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: outputs committed (run nbstripout)"
            assert cell.execution_count is None


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    from pipeline.config import load_settings
    from pipeline.run import run_pipeline

    out = tmp_path_factory.mktemp("notebook-run")
    run_pipeline(CORPUS, out, load_settings(), progress=False)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path: Path, run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    if "error-analysis" in path.name and not (PROJECT_ROOT / "../shared/eval-dev").exists():
        monkeypatch.setenv("CENB_GOLD", str(PROJECT_ROOT / "tests/classify/data/gold.jsonl"))
    monkeypatch.setenv("CENB_RUN_DIR", str(run_dir))
    monkeypatch.setenv("CENB_EVAL_OUT", str(tmp_path / "evaluation"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(PROJECT_ROOT / "notebooks")}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # every code cell produced something a person can read
    assert all(c.outputs for c in nb.cells if c.cell_type == "code"), path.name
