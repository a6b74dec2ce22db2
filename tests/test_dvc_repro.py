"""`dvc repro` on a temporary copy of the repository: regenerates reports/, a second repro does
nothing, and changing one label file re-runs only train and the stages after it.

The copy keeps every tracked file; to stay fast it trims each seed label file (the DVC wiring
is under test here, not model quality) and shares the project's content-addressed cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline import PROJECT_ROOT

pytestmark = pytest.mark.slow
SHARED = (PROJECT_ROOT / ".." / "shared").resolve()


def _sh(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    if not (SHARED / "eval-dev" / "dev_challenges.jsonl").exists():
        pytest.skip("../shared/eval-dev is absent: the evaluate stage needs it")
    root = tmp_path_factory.mktemp("dvc") / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for rel in files:
        src = PROJECT_ROOT / rel
        if src.is_file() and not rel.startswith((".team/", "reports/")):
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    (root.parent / "shared").symlink_to(SHARED)
    for seed in sorted((root / "labels" / "seed").glob("*.jsonl")):
        lines = seed.read_text(encoding="utf-8").splitlines()
        seed.write_text("\n".join(lines[:14]) + "\n", encoding="utf-8")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["paths"]["cache_dir"] = str(PROJECT_ROOT / ".cache" / "cenb")
    params["classify"]["cv_folds"] = 3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlruns.db'}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    _sh(["git", "init", "-q"], root, env)
    _sh(["git", "add", "-A"], root, env)
    _sh(["git", "commit", "-qm", "copy"], root, env)
    return root, env


def _ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def test_repro_builds_reports_then_does_nothing_then_reruns_from_train(repo) -> None:
    root, env = repo
    first = _sh(["dvc", "repro"], root, env)
    assert _ran(first) == {"extract", "embed", "train", "classify", "report", "evaluate"}
    for out in ("report.html", "report.docx", "review.xlsx", "paragraphs.jsonl", "run.json"):
        assert (root / "reports" / "latest" / out).is_file(), out
    assert (root / "dvc.lock").is_file()

    metrics = json.loads(_sh(["dvc", "metrics", "show", "--json"], root, env))
    assert metrics, "dvc metrics show found no metrics"

    second = _sh(["dvc", "repro"], root, env)
    assert _ran(second) == set()

    mobile = root / "labels" / "seed" / "mobile.jsonl"
    row = json.loads(mobile.read_text().splitlines()[0])
    row.update(id="seed-mobile-test-999",
               text="Operators should verify identity in person before porting a SIM card.")
    with mobile.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    third = _sh(["dvc", "repro"], root, env)
    ran = _ran(third)
    assert "train" in ran and not ran & {"extract", "embed"}


def test_training_run_is_tracked_in_mlflow_with_provenance(repo) -> None:
    root, env = repo
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    experiments = client.search_experiments()
    runs = [r for e in experiments for r in client.search_runs([e.experiment_id])]
    assert runs, "cenb train logged no MLflow run"
    tags = runs[0].data.tags
    assert len(tags.get("git_commit", "")) == 40
    assert tags["dvc.train.labels"].endswith(".dir")
