"""The trained classifier as one object: load from models/, predict paragraphs.

Files under settings.models_dir (written by `cenb train`):
    challenges.json   header: format, embedding model, settings, thresholds, actor lexicon,
                      taxonomy digest, label counts, the sha256 of challenges.npz
    challenges.npz    every fitted array (np.load with allow_pickle=False)
Nothing is unpickled; the npz must match the digest in the header.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from pipeline.classify.embeddings import Embedder
from pipeline.classify.model import ChallengeModel, Inputs, StakeholderModel, challenge_features
from pipeline.classify.prediction_cache import (
    PredictionCache,
    prediction_fingerprint,
    prediction_key,
)
from pipeline.classify.rule_cache import RuleCache, rules_fingerprint
from pipeline.classify.rule_pool import ParallelRules, ParserChild
from pipeline.classify.rules import N_RULE_FEATURES, RuleEngine, RuleResult
from pipeline.config import ClassifySettings, RulesSettings, Settings
from pipeline.errors import ModelNotTrainedError
from pipeline.records import Prediction, file_sha256
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

MODEL_FILE = "challenges.json"
ARRAYS_FILE = "challenges.npz"
FORMAT = "cenb-classifier/1"


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz that np.load(allow_pickle=False) reads, byte-identical for identical arrays:
    sorted members with a fixed timestamp (np.savez stamps the current time)."""
    import zipfile

    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with zf.open(info, "w") as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arrays[name]),
                                          allow_pickle=False)
    tmp.replace(path)


@dataclass
class Predictor:
    challenge: ChallengeModel
    stakeholder: StakeholderModel
    cfg: ClassifySettings
    abstain_threshold: float
    option_min_substantive: float
    lexicon: dict[str, tuple[str, ...]]
    embed_model: str
    header: dict
    embedder: Embedder | None = None
    rules: RuleEngine | None = None
    rule_cache: RuleCache | None = None
    prediction_cache: PredictionCache | None = None
    rules_cfg: RulesSettings = RulesSettings()
    embed_precision: str = "float32"   # of the vectors the heads were fitted on
    parser: ParserChild | None = None  # started by start_parser, used by the next parse

    # -- persistence ----------------------------------------------------------------------------
    def save(self, models_dir: Path) -> list[Path]:
        models_dir.mkdir(parents=True, exist_ok=True)
        arr_path = models_dir / ARRAYS_FILE
        arrays = {**self.challenge.arrays(), **self.stakeholder.arrays()}
        write_npz(arr_path, arrays)
        header = dict(self.header)
        header.update({
            "format": FORMAT,
            "arrays_file": ARRAYS_FILE,
            "arrays_sha256": file_sha256(arr_path),
            "embed_model": self.embed_model,
            "embed_precision": self.embed_precision,
            "challenge_keys": list(CHALLENGE_KEYS),
            "stakeholder_keys": list(STAKEHOLDER_KEYS),
            "classify_settings": self.cfg.model_dump(),
            "abstain_threshold": self.abstain_threshold,
            "option_min_substantive": self.option_min_substantive,
            "challenge": self.challenge.header(),
            "stakeholder": self.stakeholder.header(),
            "actor_lexicon": {p: list(k) for p, k in sorted(self.lexicon.items())},
        })
        path = models_dir / MODEL_FILE
        path.write_text(json.dumps(header, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
        self.header = header
        return [path, arr_path]

    @classmethod
    def load(cls, settings: Settings) -> "Predictor":
        models_dir = settings.models_dir
        path = models_dir / MODEL_FILE
        if not path.exists():
            raise ModelNotTrainedError(f"No trained model at {path}: run `cenb train` first.")
        try:
            header = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelNotTrainedError(f"{path} is not valid JSON ({exc}): run `cenb train` "
                                       "to rebuild it.") from exc
        if header.get("format") != FORMAT:
            raise ModelNotTrainedError(f"{path} has format {header.get('format')!r}, expected "
                                       f"{FORMAT!r}: run `cenb train`.")
        if header.get("challenge_keys") != list(CHALLENGE_KEYS) or \
                header.get("stakeholder_keys") != list(STAKEHOLDER_KEYS):
            raise ModelNotTrainedError(f"{path} was trained on other taxonomy keys: run "
                                       "`cenb train`.")
        arr_path = models_dir / header["arrays_file"]
        if not arr_path.exists() or file_sha256(arr_path) != header.get("arrays_sha256"):
            raise ModelNotTrainedError(f"{arr_path} is missing or does not match {path}: run "
                                       "`cenb train`.")
        with np.load(arr_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        if header["embed_model"] != settings.embed.model:
            raise ModelNotTrainedError(
                f"The model was trained on embeddings of {header['embed_model']!r} but "
                f"params.yaml asks for {settings.embed.model!r}: run `cenb train`.")
        # Model files from before embed.precision existed were fitted on float32 vectors.
        precision = header.get("embed_precision", "float32")
        if precision != settings.embed.precision:
            raise ModelNotTrainedError(
                f"The model was trained on {precision} embeddings but params.yaml asks for "
                f"embed.precision {settings.embed.precision}: run `cenb train`.")
        cfg = ClassifySettings(**header["classify_settings"])
        lexicon = {p: tuple(k) for p, k in header["actor_lexicon"].items()}
        embedder = Embedder(settings)
        rules_fp = rules_fingerprint(lexicon)
        return cls(
            challenge=ChallengeModel.from_arrays(arrays, header["challenge"]),
            stakeholder=StakeholderModel.from_arrays(arrays),
            cfg=cfg,
            abstain_threshold=float(header["abstain_threshold"]),
            option_min_substantive=float(header.get("option_min_substantive", 0.0)),
            lexicon=lexicon,
            embed_model=header["embed_model"],
            header=header,
            embedder=embedder,
            rule_cache=RuleCache(settings.cache_dir / "rules", rules_fp),
            prediction_cache=PredictionCache(
                settings.cache_dir / "predictions",
                prediction_fingerprint(path, rules_fp,
                                       f"{embedder.model_id}/{settings.embed.runtime}")),
            rules_cfg=settings.rules,
            embed_precision=precision,
        )

    # -- prediction -----------------------------------------------------------------------------
    def _rules(self) -> RuleEngine:
        if self.rules is None:
            self.rules = RuleEngine(self.lexicon)
        return self.rules

    def start_parser(self) -> None:
        """Fork a process that loads the parser now, for new paragraphs known only later (a run
        calls this when it finds new files, then extracts them)."""
        if self.parser is None:
            self.parser = ParserChild(self.lexicon)

    def stop_parser(self) -> None:
        """Stop a parser process that was not needed (every paragraph was cached)."""
        if self.parser is not None:
            self.parser.cancel()
            self.parser = None

    def rule_results(self, texts: Sequence[str], progress: bool = False) -> list[RuleResult]:
        """The rules for each text: cached ones read back, a large batch of new ones parsed
        in worker processes, a small one by the parser process if one was started."""
        return self.start_rule_results(texts, progress)()

    def start_rule_results(self, texts: Sequence[str], progress: bool = False
                           ) -> Callable[[], list[RuleResult]]:
        """rule_results(), begun: a small batch of new texts is parsed by the parser process
        while the caller goes on (embedding them); the call returned waits for the results."""
        rules = ParallelRules(self._rules(), self.lexicon, self.rules_cfg.workers,
                              self.rules_cfg.parallel_min_texts, progress, self.parser)
        self.parser = None
        try:
            if self.rule_cache is not None:
                return self.rule_cache.start_many(rules, list(texts))
            return rules.start_many(list(texts))
        finally:
            if rules.child is not None:   # every text was cached
                rules.child.cancel()

    def predict_batches(self, texts: Sequence[str],
                        headings: Sequence[str | None] | None = None, progress: bool = False,
                        batch: int = 256, timings: dict[str, float] | None = None
                        ) -> Iterator[list[Prediction]]:
        """Predictions for a large batch, in order, yielded about `batch` at a time (for a
        progress bar).

        Paragraphs predicted before with this model (same text and heading) are read back from
        the prediction cache; only the others are parsed, embedded and run through the heads,
        and what is ready is yielded as soon as everything before it is. The seconds parsing
        and embedding took go into `timings` (run.json's classify_parse / classify_embed).
        """
        if self.prediction_cache is None:
            yield from self._predict_new(texts, headings, progress, batch, timings)
            return
        keys = [prediction_key(t, headings[i] if headings is not None else None)
                for i, t in enumerate(texts)]
        results: list[Prediction | None] = [None] * len(texts)
        found = self.prediction_cache.get_many(keys)
        waiting: dict[str, list[int]] = {}    # key not cached -> its indices, in first-seen order
        for i, k in enumerate(keys):
            if k in found:
                results[i] = found[k]
            else:
                waiting.setdefault(k, []).append(i)
        ready = 0

        def flush(final: bool) -> Iterator[list[Prediction]]:
            nonlocal ready
            stop = ready
            while stop < len(results) and results[stop] is not None:
                stop += 1
            while stop - ready >= batch or (final and stop > ready):
                end = min(stop, ready + batch)
                yield [p for p in results[ready:end] if p is not None]
                ready = end

        yield from flush(False)
        if waiting:
            todo = list(waiting)
            first = [waiting[k][0] for k in todo]
            new_texts = [texts[i] for i in first]
            new_heads = [headings[i] for i in first] if headings is not None else None
            done = 0
            for preds in self._predict_new(new_texts, new_heads, progress, batch, timings):
                new_keys = todo[done:done + len(preds)]
                self.prediction_cache.put_many(list(zip(new_keys, preds)))
                for k, p in zip(new_keys, preds):
                    for i in waiting[k]:
                        results[i] = p
                done += len(preds)
                yield from flush(False)
        elif timings is not None:
            timings.update({"parse": 0.0, "embed": 0.0})
        yield from flush(True)

    def _predict_new(self, texts: Sequence[str], headings: Sequence[str | None] | None,
                     progress: bool, batch: int, timings: dict[str, float] | None
                     ) -> Iterator[list[Prediction]]:
        """Every text parsed and embedded once, up front (cached rule results and vectors are
        read back, the parser runs over the new ones in worker processes, the encoder gets
        full batches), then the heads, `batch` texts at a time. A few new texts go to the
        parser process and are embedded while it parses them (for one new file at 3,000
        contributions, the parse and the encoding took about 0.2 s each, one after the other).
        timings: "embed", the encoding; "parse", the rules' time apart from it."""
        started = time.perf_counter()
        finish_rules = self.start_rule_results(texts, progress)
        begun = time.perf_counter()
        try:
            vectors = self._vectors(texts, headings, progress)
        finally:
            embedded = time.perf_counter()
            rule_res = finish_rules()   # the parser process is reaped even if encoding failed
        if timings is not None:
            timings["parse"] = round(begun - started + time.perf_counter() - embedded, 3)
            timings["embed"] = round(embedded - begun, 3)
        inp = self._inputs(vectors, rule_res)
        for start in range(0, len(texts), batch):
            idx = np.arange(start, min(start + batch, len(texts)))
            yield self.predict_inputs(inp.subset(idx), rule_res[start:start + batch])

    def _vectors(self, texts: Sequence[str], headings: Sequence[str | None] | None,
                 progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """The texts' and their headings' embeddings (zeros without headings)."""
        assert self.embedder is not None
        text_emb = self.embedder.encode(list(texts), progress=progress)
        if headings is None:
            return text_emb, np.zeros_like(text_emb)
        hs = [h if isinstance(h, str) else "" for h in headings]
        return text_emb, self.embedder.encode(hs)

    @staticmethod
    def _inputs(vectors: tuple[np.ndarray, np.ndarray], rule_res: Sequence[RuleResult]
                ) -> Inputs:
        feats = (np.array([r.features() for r in rule_res], dtype=np.float64)
                 if rule_res else np.zeros((0, N_RULE_FEATURES)))
        return Inputs(vectors[0], vectors[1], feats)

    def predict(self, texts: Sequence[str], headings: Sequence[str | None] | None = None,
                progress: bool = False) -> list[Prediction]:
        if not texts:
            return []
        return [p for batch in self.predict_batches(texts, headings, progress, len(texts))
                for p in batch]

    def predict_inputs(self, inp: Inputs, rule_res: Sequence[RuleResult]) -> list[Prediction]:
        F = challenge_features(inp, self.cfg)
        label_scores = self.challenge.label_scores(F, inp.text)
        p_sub = self.challenge.p_substantive(F)
        options = np.array([r.is_policy_option for r in rule_res], dtype=bool)
        chosen = self.challenge.decide(label_scores, p_sub, self.cfg, self.abstain_threshold,
                                       options)
        joint = label_scores * self.challenge.effective_substantive(
            label_scores, p_sub, self.cfg, self.abstain_threshold, options)[:, None]
        st_scores = self.stakeholder.scores(inp.text, inp.rule_features)
        st_chosen = self.stakeholder.decide(st_scores)
        # clipped and turned into Python floats once per batch (per value, np.clip cost more
        # than the model itself on a re-run)
        joint_rows = np.clip(joint, 0, 1).tolist()
        st_rows = np.clip(st_scores, 0, 1).tolist()
        p_sub_list = p_sub.tolist()
        out: list[Prediction] = []
        for i, rr in enumerate(rule_res):
            is_option = rr.is_policy_option and p_sub_list[i] >= self.option_min_substantive
            out.append(Prediction(
                challenges=chosen[i],
                challenge_scores=dict(zip(CHALLENGE_KEYS, joint_rows[i])),
                stakeholders=st_chosen[i],
                stakeholder_scores=dict(zip(STAKEHOLDER_KEYS, st_rows[i])),
                is_policy_option=bool(is_option),
                extra={
                    "p_substantive": p_sub_list[i],
                    "option_sentences": [
                        {"sentence": o.sentence, "start": o.start, "end": o.end, "cue": o.cue,
                         "addressees": list(o.addressees)} for o in rr.options
                    ] if is_option else [],
                    "rule_roles": sorted(rr.role_hits, key=STAKEHOLDER_KEYS.index),
                },
            ))
        return out

    def describe(self) -> dict[str, Any]:
        return {"trained_at": self.header.get("trained_at"), "rows": self.header.get("rows"),
                "embed_model": self.embed_model, "embed_precision": self.embed_precision}
