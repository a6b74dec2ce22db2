"""The rule-result cache: a re-run parses nothing it has parsed before, and changes nothing."""

from __future__ import annotations

from dataclasses import asdict

from pipeline import PROJECT_ROOT
from pipeline.classify.rule_cache import RuleCache, rules_fingerprint
from pipeline.classify.rule_pool import ParallelRules
from pipeline.classify.rules import RuleEngine
from pipeline.classify.taxonomy import load_taxonomy

TEXTS = [
    "Operators should deploy source address validation, and regulators must check it.",
    "We thank the organisers for the invitation.",
    "Il convient que les États financent les équipes nationales de réponse aux incidents.",
    "Operators should deploy source address validation, and regulators must check it.",
]


def test_second_pass_parses_nothing_and_gives_the_same_results(tmp_path):
    lexicon = load_taxonomy(PROJECT_ROOT / "labels").actor_lexicon()
    engine = RuleEngine(lexicon)
    direct = engine.analyse_many(TEXTS)

    cache = RuleCache(tmp_path, rules_fingerprint(lexicon))
    first = cache.analyse_many(engine, TEXTS)
    assert cache.parsed == 3                      # the repeated text is parsed once
    cache.close()

    again = RuleCache(tmp_path, rules_fingerprint(lexicon))
    second = again.analyse_many(engine, TEXTS)
    assert again.parsed == 0
    assert [asdict(r) for r in first] == [asdict(r) for r in direct] == \
        [asdict(r) for r in second]
    assert second[0].is_policy_option and second[0].features() == direct[0].features()


def test_a_lexicon_change_starts_a_fresh_cache():
    lexicon = load_taxonomy(PROJECT_ROOT / "labels").actor_lexicon()
    changed = {**lexicon, "neighbourhood watch": ("civil_society",)}
    assert rules_fingerprint(lexicon) == rules_fingerprint(dict(lexicon))
    assert rules_fingerprint(changed) != rules_fingerprint(lexicon)


def test_parallel_rules_match_the_serial_engine():
    lexicon = load_taxonomy(PROJECT_ROOT / "labels").actor_lexicon()
    engine = RuleEngine(lexicon)
    texts = TEXTS * 3 + ["Civil society should monitor the law.", "Thank you."]
    parallel = ParallelRules(engine, lexicon, workers=2, min_texts=1)
    assert [asdict(r) for r in parallel.analyse_many(texts)] == \
        [asdict(r) for r in engine.analyse_many(texts)]
