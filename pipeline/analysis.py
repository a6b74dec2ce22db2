"""Analyst helpers for notebooks: load a run's outputs and slice the classifier's behaviour.

Everything here reads the files `cenb run` writes (CONTRACTS.md) or labels/, so a notebook
stays a thin sequence of calls and the logic is tested with the package.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS


def load_run(run_dir: Path | str) -> pd.DataFrame:
    """paragraphs.jsonl as a DataFrame, with one `score.<key>` column per challenge/stakeholder."""
    path = Path(run_dir) / "paragraphs.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    scores = pd.DataFrame(list(df["challenge_scores"])).add_prefix("score.")
    roles = pd.DataFrame(list(df["stakeholder_scores"])).add_prefix("role_score.")
    df = pd.concat([df.reset_index(drop=True), scores, roles], axis=1)
    df["top_challenge"] = scores.idxmax(axis=1).str.removeprefix("score.")
    df["top_score"] = scores.max(axis=1)
    ordered = np.sort(scores.to_numpy(), axis=1)
    df["margin"] = ordered[:, -1] - ordered[:, -2]
    return df


def load_quarantine(run_dir: Path | str) -> pd.DataFrame:
    path = Path(run_dir) / "quarantine.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return pd.DataFrame(rows, columns=["source_file", "reason", "detail"] if not rows else None)


def _explode_labels(df: pd.DataFrame, column: str) -> pd.DataFrame:
    exploded = df[["contributor", column]].explode(column).dropna(subset=[column])
    return exploded


def labels_per_contribution(df: pd.DataFrame) -> pd.DataFrame:
    """Contributor x challenge: how many paragraphs of each contribution carry each label."""
    exploded = _explode_labels(df, "challenges")
    table = pd.crosstab(exploded["contributor"], exploded["challenges"])
    return table.reindex(columns=[k for k in CHALLENGE_KEYS if k in table.columns])


def labels_per_stakeholder_group(df: pd.DataFrame, group_column: str = "stakeholder_group"
                                 ) -> pd.DataFrame:
    """Contributor's stakeholder group x challenge (the group comes from the manifest)."""
    if group_column not in df.columns:
        raise KeyError(f"paragraphs have no {group_column!r} column; add a manifest.csv")
    exploded = df[[group_column, "challenges"]].explode("challenges").dropna()
    table = pd.crosstab(exploded[group_column].fillna("unknown"), exploded["challenges"])
    return table.reindex(columns=[k for k in CHALLENGE_KEYS if k in table.columns])


def roles_by_challenge(df: pd.DataFrame) -> pd.DataFrame:
    """Stakeholder role x challenge: who the contributions give responsibilities to, per area."""
    exploded = df[["challenges", "stakeholders"]].explode("challenges").explode("stakeholders")
    exploded = exploded.dropna()
    table = pd.crosstab(exploded["stakeholders"], exploded["challenges"])
    return table.reindex(index=[k for k in STAKEHOLDER_KEYS if k in table.index],
                         columns=[k for k in CHALLENGE_KEYS if k in table.columns])


def low_confidence(df: pd.DataFrame, margin: float = 0.1, limit: int = 25) -> pd.DataFrame:
    """Substantive-looking paragraphs the model is unsure about: small top-1/top-2 margin."""
    cols = ["source_file", "paragraph", "top_challenge", "top_score", "margin", "text"]
    unsure = df[df["margin"] < margin].sort_values(["margin", "source_file", "paragraph"])
    return unsure[cols].head(limit)


def load_confirmed(labels_dir: Path | str) -> pd.DataFrame:
    """Human-confirmed labels (labels/confirmed/*.jsonl written by `cenb review apply`)."""
    rows: list[dict] = []
    for path in sorted(Path(labels_dir, "confirmed").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    return pd.DataFrame(rows)


def disagreements(df: pd.DataFrame, confirmed: pd.DataFrame) -> pd.DataFrame:
    """Paragraphs where the model's challenge labels differ from a reviewer's confirmed labels."""
    if confirmed.empty or "paragraph_id" not in df.columns:
        return pd.DataFrame(columns=["paragraph_id", "model", "confirmed", "text"])
    latest = confirmed.dropna(subset=["paragraph_id"]).drop_duplicates("paragraph_id", keep="last")
    merged = df.merge(latest[["paragraph_id", "challenges"]], on="paragraph_id",
                      suffixes=("", "_confirmed"))
    differs = merged.apply(
        lambda r: sorted(r["challenges"]) != sorted(r["challenges_confirmed"]), axis=1)
    out = merged[differs] if len(merged) else merged
    return out.rename(columns={"challenges": "model", "challenges_confirmed": "confirmed"})[
        ["paragraph_id", "model", "confirmed", "text"]]


def nearest_training_examples(text: str, settings, k: int = 5) -> pd.DataFrame:
    """The k labelled rows (labels/) closest to `text` in embedding space: why did the model
    say what it said? Uses the same Embedder (and cache) as training."""
    from pipeline.classify.embeddings import Embedder
    from pipeline.classify.labels import load_labels

    labels = load_labels(settings.labels_dir)
    embedder = Embedder(settings)
    try:
        train_vecs = embedder.encode([r.text for r in labels.rows])
        query = embedder.encode([text])[0]
    finally:
        embedder.close()
    sims = train_vecs @ query
    order = np.argsort(-sims, kind="stable")[:k]
    return pd.DataFrame([{"similarity": round(float(sims[i]), 3),
                          "challenges": list(labels.rows[i].challenges),
                          "file": labels.rows[i].file, "text": labels.rows[i].text}
                         for i in order])
