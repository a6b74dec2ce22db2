"""The prediction cache: a re-run predicts only new paragraphs, and changes no prediction."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from pipeline.classify.prediction_cache import (
    PredictionCache,
    prediction_fingerprint,
    prediction_key,
)
from pipeline.classify.predictor import MODEL_FILE, Predictor
from pipeline.config import load_settings

TEXTS = [
    "Operators should deploy source address validation, and regulators must check it.",
    "We thank the organisers for the invitation.",
    "Governments need to fund national CERTs and share incident data with their neighbours.",
    "Operators should deploy source address validation, and regulators must check it.",
    "Vendors must ship security updates for the whole lifetime of a connected device.",
]
HEADINGS = ["Q1", None, "Q2", "Q3", "Q2"]


def _predictor(cache_dir):
    settings = load_settings()
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(
        update={"cache_dir": cache_dir})})
    return Predictor.load(settings)


def _all(predictor, texts, headings, batch=2, timings=None):
    return [p for chunk in predictor.predict_batches(texts, headings, batch=batch,
                                                     timings=timings) for p in chunk]


@pytest.mark.slow
def test_a_rerun_reads_predictions_back_and_predicts_only_new_text(tmp_path):
    first = _predictor(tmp_path)
    uncached = Predictor(**{**first.__dict__, "prediction_cache": None})
    direct = _all(uncached, TEXTS, HEADINGS)
    computed = _all(first, TEXTS, HEADINGS)
    assert [asdict(p) for p in computed] == [asdict(p) for p in direct]
    assert first.rule_cache.parsed == 4          # the one repeated (text, heading) once

    again = _predictor(tmp_path)
    timings: dict[str, float] = {}
    cached = _all(again, TEXTS, HEADINGS, timings=timings)
    assert [asdict(p) for p in cached] == [asdict(p) for p in direct]
    assert again.rule_cache.parsed == 0 and timings == {"parse": 0.0, "embed": 0.0}

    # one new paragraph in the middle: only it is predicted; the order is kept
    grown = TEXTS[:2] + ["Civil society should monitor how the new law is applied."] + TEXTS[2:]
    heads = HEADINGS[:2] + [None] + HEADINGS[2:]
    third = _predictor(tmp_path)
    chunks = list(third.predict_batches(grown, heads, batch=2))
    out = [p for c in chunks for p in c]
    assert third.rule_cache.parsed == 1
    assert len(out) == len(grown)
    assert [asdict(p) for p in out[:2] + out[3:]] == [asdict(p) for p in direct]
    assert asdict(out[2]) == asdict(_all(uncached, grown[2:3], heads[2:3])[0])
    assert all(0 < len(c) <= 2 for c in chunks)


@pytest.mark.slow
def test_the_heading_is_part_of_the_key(tmp_path):
    predictor = _predictor(tmp_path)
    text = "Operators should deploy source address validation."
    assert prediction_key(text, "Q1") != prediction_key(text, "Q2")
    assert prediction_key(text, None) == prediction_key(text, "")
    _all(predictor, [text, text], ["Q1", "Q2"])
    assert predictor.rule_cache.parsed == 1      # the rules depend on the text alone


def test_a_retrained_model_or_another_runtime_starts_a_fresh_cache(tmp_path):
    settings = load_settings()
    header = settings.models_dir / MODEL_FILE
    base = prediction_fingerprint(header, "rules1", "minilm@256/onnx")
    assert base == prediction_fingerprint(header, "rules1", "minilm@256/onnx")
    assert base != prediction_fingerprint(header, "rules2", "minilm@256/onnx")
    assert base != prediction_fingerprint(header, "rules1", "minilm@256/torch")
    retrained = tmp_path / MODEL_FILE
    retrained.write_bytes(header.read_bytes().replace(b'"trained_at"', b'"trained_at" ', 1))
    assert base != prediction_fingerprint(retrained, "rules1", "minilm@256/onnx")


def test_an_unreadable_row_is_predicted_again(tmp_path):
    cache = PredictionCache(tmp_path, "fp")
    cache._store.put_many([("k", b"not json")])
    assert cache.get_many(["k", "other"]) == {}
    cache.close()


def test_values_round_trip_exactly_and_unreadable_rows_are_missing(tmp_path):
    from pipeline.records import Prediction

    pred = Prediction(challenges=["mobile"], challenge_scores={"mobile": 0.1 + 0.2, "iot": 1e-300},
                      stakeholders=[], stakeholder_scores={"users": 2.0 / 3.0},
                      is_policy_option=True, extra={"option_sentences": [{"start": 0}]})
    cache = PredictionCache(tmp_path, "f" * 16)
    cache.put_many([("a", pred)])
    cache._store.put_many([("old", b'{"c": [], "cs": {}}'), ("cut", b"\x10\x00\x00\x00{")])
    got = cache.get_many(["a", "old", "cut", "absent"])
    assert list(got) == ["a"]
    assert asdict(got["a"]) == asdict(pred)
    assert list(got["a"].challenge_scores) == ["mobile", "iot"]
    cache.close()


def test_taxonomy_score_keys_are_not_stored_with_every_row(tmp_path):
    from pipeline.classify.prediction_cache import _to_bytes
    from pipeline.records import Prediction
    from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

    pred = Prediction(challenges=[CHALLENGE_KEYS[3]],
                      challenge_scores={k: i / 7 for i, k in enumerate(CHALLENGE_KEYS)},
                      stakeholders=["users"],
                      stakeholder_scores={k: 1 / (i + 3) for i, k in enumerate(STAKEHOLDER_KEYS)},
                      is_policy_option=False, extra={"p_substantive": 0.25})
    assert CHALLENGE_KEYS[5].encode() not in _to_bytes(pred)
    cache = PredictionCache(tmp_path, "f" * 16)
    cache.put_many([("a", pred)])
    got = cache.get_many(["a"])["a"]
    assert asdict(got) == asdict(pred)
    assert tuple(got.challenge_scores) == CHALLENGE_KEYS
    assert tuple(got.stakeholder_scores) == STAKEHOLDER_KEYS
    cache.close()
