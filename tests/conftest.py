"""Helpers shared by every test package: where the repository and ../shared are, and one
hypothesis profile (no per-example deadline: the machines are 2 shared cores; derandomized
under CI so a run there is reproducible).

Stage-specific fixtures live in tests/<stage>/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"

hypothesis_settings.register_profile("cenb", deadline=None)
hypothesis_settings.register_profile("cenb-ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("cenb-ci" if os.environ.get("CI") else "cenb")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (CI clones the repository with shared/ beside it)."""
    return SHARED_DIR
