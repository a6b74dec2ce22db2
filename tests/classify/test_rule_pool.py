"""The parser process a run starts when it finds new files: same results as the engine in the
main process, used once, stopped when every paragraph was cached."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict

import pytest

from pipeline import PROJECT_ROOT
from pipeline import forked
from pipeline.classify.predictor import Predictor
from pipeline.classify.rule_pool import ParallelRules, ParserChild
from pipeline.classify.rules import RuleEngine
from pipeline.classify.taxonomy import load_taxonomy
from pipeline.config import load_settings

TEXTS = [
    "Operators should deploy source address validation, and regulators must check it.",
    "We thank the organisers for the invitation.",
    "Civil society should monitor how the new law is applied.",
]
needs_fork = pytest.mark.skipif(not forked.fork_available(), reason="fork is Linux-only here")


def _lexicon() -> dict[str, tuple[str, ...]]:
    return load_taxonomy(PROJECT_ROOT / "labels").actor_lexicon()


@needs_fork
def test_the_child_parses_what_the_engine_parses_and_the_parent_never_loads_spacy():
    code = (
        "import sys\n"
        "from pipeline import PROJECT_ROOT\n"
        "from pipeline.classify.taxonomy import load_taxonomy\n"
        "from pipeline.classify.rule_pool import ParserChild, result_to_json\n"
        "lexicon = load_taxonomy(PROJECT_ROOT / 'labels').actor_lexicon()\n"
        f"texts = {TEXTS!r}\n"
        "got = ParserChild(lexicon).start(texts)()\n"
        "assert 'spacy' not in sys.modules, 'the parent loaded spaCy'\n"
        "from pipeline.classify.rules import RuleEngine\n"
        "want = RuleEngine(lexicon).analyse_many(texts)\n"
        "assert [result_to_json(r) for r in got] == [result_to_json(r) for r in want]\n"
        "assert got[0].is_policy_option and not got[1].is_policy_option\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]


@needs_fork
def test_a_small_batch_goes_to_the_child_once_and_a_large_one_to_the_workers():
    lexicon = _lexicon()
    engine = RuleEngine(lexicon)
    want = [asdict(r) for r in engine.analyse_many(TEXTS)]

    child = ParserChild(lexicon)
    pid = child._call._pid
    rules = ParallelRules(engine, lexicon, workers=2, min_texts=10, child=child)
    assert [asdict(r) for r in rules.analyse_many(TEXTS)] == want
    assert rules.child is None                        # used once
    with pytest.raises(ChildProcessError):           # and reaped
        os.waitpid(pid, 0)

    # begun and finished apart: the texts are the child's as soon as start_many returns, and
    # the caller does its own work (a run embeds them) before it waits for the results
    child = ParserChild(lexicon)
    pid = child._call._pid
    rules = ParallelRules(engine, lexicon, workers=2, min_texts=10, child=child)
    finish = rules.start_many(TEXTS)
    assert rules.child is None and child._call._sent
    assert [asdict(r) for r in finish()] == want
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)

    child = ParserChild(lexicon)
    pid = child._call._pid
    rules = ParallelRules(engine, lexicon, workers=2, min_texts=2, child=child)
    assert [asdict(r) for r in rules.analyse_many(TEXTS)] == want   # worker processes
    with pytest.raises(ChildProcessError):           # the child was stopped
        os.waitpid(pid, 0)


@pytest.mark.slow
@needs_fork
def test_the_predictor_uses_its_parser_for_new_text_and_stops_it_when_all_is_cached(tmp_path):
    settings = load_settings()
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(
        update={"cache_dir": tmp_path})})
    direct = Predictor.load(settings)
    want = [asdict(r) for r in direct.rule_results(TEXTS)]    # fills the rule cache

    fresh = settings.model_copy(update={"paths": settings.paths.model_copy(
        update={"cache_dir": tmp_path / "other"})})
    predictor = Predictor.load(fresh)
    predictor.start_parser()
    pid = predictor.parser._call._pid
    assert [asdict(r) for r in predictor.rule_results(TEXTS)] == want
    assert predictor.parser is None and predictor.rule_cache.parsed == 3
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)

    cached = Predictor.load(settings)
    cached.start_parser()
    pid = cached.parser._call._pid
    assert [asdict(r) for r in cached.rule_results(TEXTS)] == want
    assert cached.rule_cache.parsed == 0
    with pytest.raises(ChildProcessError):            # nothing to parse: stopped
        os.waitpid(pid, 0)

    idle = Predictor.load(settings)
    idle.start_parser()
    pid = idle.parser._call._pid
    idle.stop_parser()
    assert idle.parser is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


@pytest.mark.slow
@needs_fork
def test_new_text_is_embedded_while_the_parser_process_parses_it(tmp_path):
    """The same predictions whether the parser process parses the new paragraphs while they
    are embedded or the engine parses them first in this process; both times are reported."""
    settings = load_settings()

    def predictor(name: str) -> Predictor:
        return Predictor.load(settings.model_copy(update={"paths": settings.paths.model_copy(
            update={"cache_dir": tmp_path / name})}))

    plain = predictor("plain").predict(TEXTS, ["Q1"] * len(TEXTS))
    overlapped = predictor("overlapped")
    overlapped.start_parser()
    timings: dict[str, float] = {}
    got = [p for batch in overlapped.predict_batches(TEXTS, ["Q1"] * len(TEXTS),
                                                     timings=timings) for p in batch]
    assert [p.to_contract(i) for i, p in enumerate(got)] == \
        [p.to_contract(i) for i, p in enumerate(plain)]
    assert overlapped.parser is None and overlapped.rule_cache.parsed == len(TEXTS)
    assert timings["parse"] >= 0 and timings["embed"] > 0
