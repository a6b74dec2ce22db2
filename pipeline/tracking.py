"""Provenance tags for MLflow runs: the git commit and the DVC hashes of a stage's inputs.

The hashes are computed with DVC's own dependency objects, so they are the values `dvc repro`
records in dvc.lock for that stage, and an MLflow run can be matched to the exact labels and
code that produced it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipeline import PROJECT_ROOT


def git_commit(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """HEAD's commit and whether the work tree differs from it; empty outside a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": commit, "git_dirty": str(bool(dirty)).lower()}


def dvc_input_hashes(stage: str, root: Path = PROJECT_ROOT) -> dict[str, str]:
    """{"dvc.<stage>.<dep path>": hash} for every dependency of a dvc.yaml stage.

    Returns {} when the project has no dvc.yaml or DVC cannot read it: tracking must never
    stop a training run.
    """
    if not (root / "dvc.yaml").exists():
        return {}
    try:
        from dvc.repo import Repo

        tags: dict[str, str] = {}
        with Repo(str(root)) as repo:
            for st in repo.stage.collect(stage):
                for dep in st.deps:
                    info = dep.get_hash()
                    if info is None or info.value is None:
                        continue
                    value = info.value if isinstance(info.value, str) else json.dumps(
                        info.value, sort_keys=True)
                    tags[f"dvc.{stage}.{dep.def_path}"] = value[:5000]
        return tags
    except Exception as exc:  # noqa: BLE001 - DVC raises many types; provenance is best-effort
        return {"dvc.error": f"{type(exc).__name__}: {exc}"[:500]}


def run_tags(stage: str = "train", root: Path = PROJECT_ROOT) -> dict[str, str]:
    """All provenance tags for an MLflow run of `stage`."""
    return {**git_commit(root), **dvc_input_hashes(stage, root)}
