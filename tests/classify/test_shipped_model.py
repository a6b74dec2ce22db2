"""The committed models/ (what `make demo` and users run): loads, and holds up on real text."""

from __future__ import annotations

import json

import pytest

from pipeline.classify.predictor import Predictor
from pipeline.config import load_settings
from pipeline.taxonomy_keys import CHALLENGE_KEYS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped():
    settings = load_settings()
    return settings, Predictor.load(settings)


def test_dev_set_top1_on_real_text(shipped):
    """The 19 real paragraphs of ../shared/eval-dev (never trained on): top-1 stays >= 0.8."""
    settings, predictor = shipped
    if not settings.eval_dev.is_file():
        pytest.skip(f"{settings.eval_dev} is not here")
    gold = [json.loads(line) for line in settings.eval_dev.read_text().splitlines() if line]
    preds = predictor.predict([g["text"] for g in gold])
    hits = sum(max(p.challenge_scores, key=p.challenge_scores.get) == g["challenge"]
               for p, g in zip(preds, gold))
    assert hits / len(gold) >= 0.8, f"dev top-1 {hits}/{len(gold)}"


def test_boilerplate_gets_no_challenge_and_options_get_roles(shipped):
    _, predictor = shipped
    thanks, option = predictor.predict([
        "We thank the secretariat for the opportunity to contribute and look forward to the "
        "discussions at the forum in Geneva.",
        "National regulators should require internet exchange points to publish their route "
        "server filtering policies, and operators should join routing security programmes.",
    ])
    assert thanks.challenges == [] and not thanks.is_policy_option
    assert option.challenges and option.challenges[0] == "shared_critical_services"
    assert option.is_policy_option
    assert {"government", "private_sector"} <= set(option.stakeholders)
    assert set(option.challenge_scores) == set(CHALLENGE_KEYS)
