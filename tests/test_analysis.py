"""pipeline.analysis on a small, real-shaped run output (what the notebooks call)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline import analysis
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS


def _row(pid: str, contributor: str, challenges: list[str], stakeholders: list[str],
         top: str, top_score: float, second: float) -> dict:
    scores = {k: 0.01 for k in CHALLENGE_KEYS}
    scores[top] = top_score
    scores["mobile" if top != "mobile" else "diversity"] = second
    return {"paragraph_id": pid, "source_file": f"{contributor}.docx", "contributor": contributor,
            "page": None, "paragraph": 1, "text": f"text of {pid}", "challenges": challenges,
            "challenge_scores": scores, "stakeholders": stakeholders,
            "stakeholder_scores": {k: 0.5 if k in stakeholders else 0.1 for k in STAKEHOLDER_KEYS},
            "is_policy_option": bool(stakeholders), "option_group": None,
            "stakeholder_group": "government" if contributor == "Ministry" else "civil_society"}


def _write_run(tmp_path: Path) -> Path:
    rows = [
        _row("p-1", "Ministry", ["shared_critical_services"], ["government"],
             "shared_critical_services", 0.9, 0.05),
        _row("p-2", "Ministry", ["mobile"], ["private_sector"], "mobile", 0.55, 0.5),
        _row("p-3", "NGO", [], [], "diversity", 0.2, 0.19),
    ]
    (tmp_path / "paragraphs.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "quarantine.jsonl").write_text(json.dumps(
        {"source_file": "x.pdf", "reason": "encrypted", "detail": "Password."}) + "\n")
    return tmp_path


def test_load_run_adds_scores_top_label_and_margin(tmp_path: Path) -> None:
    df = analysis.load_run(_write_run(tmp_path))
    assert len(df) == 3
    assert df.loc[0, "top_challenge"] == "shared_critical_services"
    assert abs(df.loc[1, "margin"] - 0.05) < 1e-9
    assert "score.whistleblowers" in df.columns and "role_score.users" in df.columns
    assert len(analysis.load_quarantine(tmp_path)) == 1


def test_crosstabs_count_labels(tmp_path: Path) -> None:
    df = analysis.load_run(_write_run(tmp_path))
    per_contrib = analysis.labels_per_contribution(df)
    assert per_contrib.loc["Ministry", "mobile"] == 1
    assert "NGO" not in per_contrib.index  # no labelled paragraph
    per_group = analysis.labels_per_stakeholder_group(df)
    assert per_group.loc["government", "shared_critical_services"] == 1
    roles = analysis.roles_by_challenge(df)
    assert roles.loc["private_sector", "mobile"] == 1


def test_low_confidence_lists_smallest_margins_first(tmp_path: Path) -> None:
    df = analysis.load_run(_write_run(tmp_path))
    unsure = analysis.low_confidence(df, margin=0.1)
    assert list(unsure["text"]) == ["text of p-3", "text of p-2"]


def test_disagreements_with_confirmed_labels(tmp_path: Path) -> None:
    df = analysis.load_run(_write_run(tmp_path))
    confirmed = pd.DataFrame([
        {"paragraph_id": "p-1", "challenges": ["shared_critical_services"]},
        {"paragraph_id": "p-2", "challenges": ["sensitive_information"]},
    ])
    out = analysis.disagreements(df, confirmed)
    assert list(out["paragraph_id"]) == ["p-2"]
    assert out.iloc[0]["confirmed"] == ["sensitive_information"]
    assert analysis.disagreements(df, pd.DataFrame()).empty
