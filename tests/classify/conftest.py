"""Shared fixtures: a tiny labelled project (our own 32 rows) trained once per session.

The embedding model takes ~7 s to load, so one Embedder cache directory and one trained model
serve the whole session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import PROJECT_ROOT
from pipeline.config import Settings, load_settings

DATA = Path(__file__).parent / "data"
TAXONOMY = PROJECT_ROOT / "labels" / "taxonomy.yaml"


def make_project(root: Path, cache_dir: Path, seed_files: dict[str, Path] | None = None,
                 **classify) -> Path:
    """A params.yaml + labels/ under root; returns the params path."""
    labels = root / "labels"
    (labels / "seed").mkdir(parents=True, exist_ok=True)
    shutil.copy(TAXONOMY, labels / "taxonomy.yaml")
    for name, src in (seed_files or {"tiny.jsonl": DATA / "tiny_seed.jsonl"}).items():
        shutil.copy(src, labels / "seed" / name)
    params = {
        "paths": {"models_dir": "models", "labels_dir": "labels", "cache_dir": str(cache_dir),
                  "reports_dir": "reports", "interim_dir": "interim",
                  "processed_dir": "processed", "eval_dev": "no-such-dev.jsonl",
                  "mlflow_tracking_uri": "sqlite:///mlruns.db"},
        "classify": {"cv_folds": 2, "bootstrap": 50, **classify},
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def project_factory():
    """make_project(root, cache_dir, seed_files=None, **classify) -> params path."""
    return make_project


@pytest.fixture(scope="session")
def taxonomy_path() -> Path:
    return TAXONOMY


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cenb-cache")


@pytest.fixture(scope="session")
def trained_report(tmp_path_factory, cache_dir):
    """(settings, TrainReport) of a project whose model was trained on the tiny set."""
    from pipeline.classify.train import train_model

    root = tmp_path_factory.mktemp("tiny-project")
    settings = load_settings(make_project(root, cache_dir))
    report = train_model(settings, log_mlflow=False, progress=False)
    return settings, report


@pytest.fixture(scope="session")
def trained(trained_report) -> Settings:
    return trained_report[0]


@pytest.fixture(scope="session")
def predictor(trained):
    from pipeline.classify.predictor import Predictor

    return Predictor.load(trained)
