"""Fixtures of the report (and review) tests: realistic contributions built into report inputs.

tests/report/data/contributions.json holds six contributions written like real submissions
(a ministry, a CERT, an NGO, a telco, an academic, and a hostile one whose text tries HTML and
spreadsheet-formula injection), each paragraph with the labels a classifier would give it.
tests/review/conftest.py re-exports these fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from pipeline.config import Settings, load_settings
from pipeline.report.model import ReportInput, build_input

DATA = Path(__file__).parent / "data" / "contributions.json"


def _specs() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture
def specs() -> dict:
    return _specs()


@pytest.fixture
def make_input() -> Callable[..., ReportInput]:
    """make_input(input_dir=None, drop=(), add=()) -> a fresh ReportInput of the sample."""

    def make(input_dir: Path | None = None, drop: tuple[str, ...] = (),
             add: tuple[dict, ...] = ()) -> ReportInput:
        data = _specs()
        contributions = [c for c in data["contributions"] if c["source_file"] not in drop]
        contributions += list(add)
        return build_input(contributions, data["quarantine"], input_dir=input_dir)

    return make


def _tfidf(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    return vec.fit_transform(texts).toarray()


@pytest.fixture
def encode_tfidf() -> Callable[[list[str]], np.ndarray]:
    """A deterministic bag-of-words encoder for fast unit tests (MiniLM is in `minilm`)."""
    return _tfidf


TFIDF_THRESHOLD = 0.25  # bag-of-words cosines are lower than sentence-embedding ones


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """settings_for(threshold=None) -> the project's settings with labels/ in tmp_path."""

    def make(threshold: float | None = TFIDF_THRESHOLD, labels_dir: Path | None = None
             ) -> Settings:
        base = load_settings()
        paths = base.paths.model_copy(update={"labels_dir": labels_dir or tmp_path / "labels"})
        report = base.report
        if threshold is not None:
            report = report.model_copy(update={"group_threshold": threshold})
        return base.model_copy(update={"paths": paths, "report": report})

    return make


@pytest.fixture(scope="session")
def finder():
    """The classifier's real option-sentence finder (spaCy rules)."""
    from pipeline.classify.policy_option import find_option_sentences

    return find_option_sentences


@pytest.fixture(scope="session")
def minilm(tmp_path_factory):
    """The project's real sentence embedder, cached in a temporary directory."""
    from pipeline.classify.embeddings import Embedder

    base = load_settings()
    cache = tmp_path_factory.mktemp("embcache")
    settings = base.model_copy(update={"paths": base.paths.model_copy(
        update={"cache_dir": cache})})
    emb = Embedder(settings)
    yield emb.encode
    emb.close()
