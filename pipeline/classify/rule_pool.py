"""The spaCy rules over many paragraphs in parallel worker processes.

Parsing is single-threaded and took a fifth of a 3,000-contribution run; the workers each load
the parser once and analyse chunks of paragraphs, and the results come back in input order, so
the output is the same as a serial run. Small batches are parsed by one process: starting a
worker costs about two seconds (importing spaCy and loading the pipeline), so when a run finds
new files it forks a ParserChild at once, which loads the parser on the other core while the
files are extracted, and parses their new paragraphs when they are ready, while the caller
embeds them (`start_many`).
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any, Callable, Sequence

from pipeline.classify.rules import OptionSentence, RuleEngine, RuleResult
from pipeline.forked import ForkedCall

CHUNK = 256


def result_to_json(res: RuleResult) -> str:
    return json.dumps(asdict(res), ensure_ascii=False, sort_keys=True)


def result_from_json(raw: str) -> RuleResult:
    obj = json.loads(raw)
    options = [OptionSentence(**{**o, "addressees": tuple(o.get("addressees", ()))})
               for o in obj.pop("options", [])]
    return RuleResult(options=options, **obj)


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


class ParserChild:
    """A forked child that loads the parser at once and analyses the texts it is sent later.

    Why: a re-run that finds a new file loaded spaCy (about 1.5 s of Python) in a thread of the
    main process, where it took turns, under the GIL, with reading 3,000 contributions back from
    the cache. Forked as soon as new files are known, the child loads it on the other core
    while the files are extracted. If the child fails, the texts are parsed in-process
    (ForkedCall), with the same results."""

    def __init__(self, lexicon: dict[str, tuple[str, ...]]) -> None:
        def parse(receive: Callable[[], Any]) -> dict[str, Any]:
            from pipeline.nlp import load_nlp

            load_nlp()   # before the texts arrive; the engine's parser is this one
            texts = receive()
            return {"results": [result_to_json(r) for r in RuleEngine(lexicon).analyse_many(texts)]}

        self._call = ForkedCall(parse, "parsing the new paragraphs", takes_input=True)

    def start(self, texts: Sequence[str]) -> Callable[[], list[RuleResult]]:
        """Once: the texts go to the child now; the call returned waits for its results (the
        child exits afterwards)."""
        self._call.send(list(texts))
        return lambda: [result_from_json(raw) for raw in self._call.result()["results"]]

    def cancel(self) -> None:
        self._call.cancel()


class ParallelRules:
    """A RuleEngine that hands large batches to worker processes (same results, same order),
    and a small one to a ParserChild when it has one (once)."""

    def __init__(self, engine: RuleEngine, lexicon: dict[str, tuple[str, ...]], workers: int,
                 min_texts: int, progress: bool = False,
                 child: ParserChild | None = None) -> None:
        self.engine = engine
        self.progress = progress
        self.lexicon = lexicon
        self.workers = workers
        self.min_texts = min_texts
        self.child = child

    def analyse_many(self, texts: Sequence[str]) -> list[RuleResult]:
        return self.start_many(texts)()

    def start_many(self, texts: Sequence[str]) -> Callable[[], list[RuleResult]]:
        """analyse_many(texts), begun: the parser child (if any) takes a small batch now and
        parses it while the caller goes on; the call returned waits for its results. A large
        batch, or one without a child, is analysed now."""
        child, self.child = self.child, None
        if self.workers > 1 and len(texts) >= self.min_texts:
            if child is not None:
                child.cancel()
            results = analyse_parallel(self.lexicon, texts, self.workers, self.progress)
        elif child is not None:
            return child.start(texts)
        else:
            results = self.engine.analyse_many(texts)
        return lambda: results
