"""The spaCy rules over many paragraphs in parallel worker processes.

Parsing is single-threaded and took a fifth of a 3,000-contribution run; the workers each load
the parser once and analyse chunks of paragraphs, and the results come back in input order, so
the output is the same as a serial run. Small batches stay in-process: starting a worker costs
about two seconds (importing spaCy and loading the pipeline).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence

from pipeline.classify.rules import RuleEngine, RuleResult

CHUNK = 256

_engine: RuleEngine | None = None


def _init(lexicon: dict[str, tuple[str, ...]]) -> None:
    global _engine
    _engine = RuleEngine(lexicon)


def _analyse_chunk(texts: list[str]) -> list[RuleResult]:
    assert _engine is not None
    return _engine.analyse_many(texts)


def analyse_parallel(lexicon: dict[str, tuple[str, ...]], texts: Sequence[str],
                     workers: int, progress: bool = False) -> list[RuleResult]:
    """RuleEngine(lexicon).analyse_many(texts), split over `workers` processes."""
    from tqdm.auto import tqdm

    chunks = [list(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)]
    # spawn, not fork: the parent may hold onnxruntime / torch thread pools
    ctx = multiprocessing.get_context("spawn")
    out: list[RuleResult] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init,
                             initargs=(lexicon,)) as pool, \
            tqdm(total=len(texts), desc="Parsing", unit="para", disable=not progress,
                 leave=False) as bar:
        for results in pool.map(_analyse_chunk, chunks):
            out.extend(results)
            bar.update(len(results))
    return out


class ParallelRules:
    """A RuleEngine that hands large batches to worker processes (same results, same order)."""

    def __init__(self, engine: RuleEngine, lexicon: dict[str, tuple[str, ...]], workers: int,
                 min_texts: int, progress: bool = False) -> None:
        self.engine = engine
        self.progress = progress
        self.lexicon = lexicon
        self.workers = workers
        self.min_texts = min_texts

    def analyse_many(self, texts: Sequence[str]) -> list[RuleResult]:
        if self.workers > 1 and len(texts) >= self.min_texts:
            return analyse_parallel(self.lexicon, texts, self.workers, self.progress)
        return self.engine.analyse_many(texts)
