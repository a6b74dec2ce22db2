"""Helpers shared by every test package: where the repository and ../shared are.

Stage-specific fixtures live in tests/<stage>/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (CI clones the repository with shared/ beside it)."""
    return SHARED_DIR
