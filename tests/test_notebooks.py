"""The analyst notebooks run top to bottom on the sample corpus, and are stored without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline import PROJECT_ROOT
from pipeline.config import load_settings

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
    from pipeline.run import run_pipeline

    out = tmp_path_factory.mktemp("notebook-run")
    run_pipeline(CORPUS, out, load_settings(), progress=False)
    return out


# A small labelled file written for this test, for machines without ../shared/eval-dev (the
# notebook's default). Its own wording; one row about no challenge area.
FALLBACK_GOLD = (
    {"id": "t1", "challenge": "mobile", "stakeholders": ["private_sector"],
     "is_policy_option": True,
     "text": "Handset makers should commit to security updates for at least five years after "
             "a phone goes on sale, and say so on the box."},
    {"id": "t2", "challenge": "industrial_control_systems", "stakeholders": ["government"],
     "is_policy_option": True,
     "text": "Regulators should require water and power utilities to separate their control "
             "networks from office IT and to test that separation every year."},
    {"id": "t3", "challenge": "awareness_capacity", "stakeholders": ["civil_society"],
     "is_policy_option": True,
     "text": "Community groups can run cyber hygiene workshops for older people, with "
             "public funding for trainers and materials in local languages."},
    {"id": "t4", "challenge": "secure_development", "stakeholders": ["private_sector"],
     "is_policy_option": True,
     "text": "Software vendors should publish a vulnerability disclosure policy and fix "
             "reported flaws within a stated time."},
    {"id": "t5", "challenge": None, "stakeholders": [], "is_policy_option": False,
     "text": "Our organisation was founded in 2009 and has offices in three countries."},
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path: Path, run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    if "error-analysis" in path.name and not load_settings().eval_dev.exists():
        gold = tmp_path / "gold.jsonl"
        gold.write_text("".join(json.dumps(r) + "\n" for r in FALLBACK_GOLD), encoding="utf-8")
        monkeypatch.setenv("CENB_GOLD", str(gold))
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
