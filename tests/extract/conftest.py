"""Fixtures of the extract-stage tests: settings with a private cache, the realdocs corpus, and
small real documents built with the libraries that write them (python-docx, odfpy)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.config import ExtractSettings, PathsSettings, Settings

REALDOCS = Path(__file__).resolve().parents[2].parent / "shared" / "realdocs"
REALDOCS_FILES = REALDOCS / "files"


def make_settings(tmp_path: Path, **extract: object) -> Settings:
    """Settings whose cache lives under tmp_path, with extract.* overrides."""
    values = {"workers": 2, **extract}
    return Settings(paths=PathsSettings(cache_dir=tmp_path / "cache"),
                    extract=ExtractSettings(**values))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def settings_with():
    """settings_with(cache_root, **extract) -> Settings (see make_settings)."""
    return make_settings


@pytest.fixture(scope="session")
def realdocs_files() -> Path:
    if not REALDOCS_FILES.is_dir():
        pytest.skip(f"{REALDOCS_FILES} is absent: the realdocs corpus lives in ../shared beside "
                    "the repository")
    return REALDOCS_FILES


@pytest.fixture(scope="session")
def realdocs_manifest(realdocs_files: Path) -> list[dict[str, str]]:
    with open(REALDOCS / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def realdoc(realdocs_files: Path):
    """realdoc(name) -> the path of one realdocs file."""

    def get(name: str) -> Path:
        path = realdocs_files / name
        assert path.is_file(), f"{name} is not in {realdocs_files}"
        return path

    return get
