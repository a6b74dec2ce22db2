"""A disk cache of whole predictions, so that a re-run classifies only new paragraphs.

With vectors and rule results cached, re-classifying 69,000 unchanged paragraphs (3,000
contributions) still took 9 s of a one-file re-run: reading 69,000 vectors and rule results
back and running the heads. A prediction depends only on the paragraph's text and heading, the
trained model, the rule code and lexicon, the embedding model and runtime, and the prediction
code; the key is sha256 of text and heading, and the file name carries a fingerprint of all the
rest, so retraining, a changed rule or a changed runtime starts a fresh file instead of serving
stale results. Values are never pickles: the 23 scores as little-endian float64 (exactly the
floats computed; as JSON their 17-digit decimals took 1.9 of the 3 s of reading 60,000
predictions back) after a JSON head with the labels, the extras and, when they are not the
taxonomy's, the score keys.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any, Sequence

import orjson

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import hash_code
from pipeline.records import Prediction, content_hash
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

_SOURCES = ("classify/predictor.py", "classify/model.py", "classify/prediction_cache.py")


def prediction_fingerprint(model_file: Path, rules_fingerprint: str, embedder_id: str) -> str:
    """Hash of what a prediction depends on besides the text and heading. model_file (the
    header) carries the sha256 of the fitted arrays and every classify setting the model uses."""
    h = hashlib.sha256()
    h.update(model_file.read_bytes())
    hash_code(h, _SOURCES)
    h.update(f"\x1f{rules_fingerprint}\x1f{embedder_id}".encode("utf-8"))
    return h.hexdigest()[:16]


def prediction_key(text: str, heading: str | None) -> str:
    return content_hash(f"{text}\x1e{heading if isinstance(heading, str) else ''}")


_LENGTH = struct.Struct("<I")


def _to_bytes(p: Prediction) -> bytes:
    ck, sk = tuple(p.challenge_scores), tuple(p.stakeholder_scores)
    head_obj: dict[str, Any] = {"c": p.challenges, "s": p.stakeholders,
                                "o": p.is_policy_option, "x": p.extra}
    # the score keys are stored only when they are not the taxonomy's (they always are for the
    # model's predictions): 23 key strings were most of each head to parse back
    if ck != CHALLENGE_KEYS:
        head_obj["ck"] = ck
    if sk != STAKEHOLDER_KEYS:
        head_obj["sk"] = sk
    head = orjson.dumps(head_obj)
    scores = [float(v) for v in p.challenge_scores.values()] + \
        [float(v) for v in p.stakeholder_scores.values()]
    return _LENGTH.pack(len(head)) + head + struct.pack(f"<{len(scores)}d", *scores)


def _from_bytes(raw: bytes) -> Prediction:
    (n,) = _LENGTH.unpack_from(raw)
    obj = orjson.loads(raw[_LENGTH.size:_LENGTH.size + n])
    ck, sk = obj.get("ck", CHALLENGE_KEYS), obj.get("sk", STAKEHOLDER_KEYS)
    scores = struct.unpack_from(f"<{len(ck) + len(sk)}d", raw, _LENGTH.size + n)
    return Prediction(challenges=obj["c"], challenge_scores=dict(zip(ck, scores)),
                      stakeholders=obj["s"], stakeholder_scores=dict(zip(sk, scores[len(ck):])),
                      is_policy_option=obj["o"], extra=obj["x"])


class PredictionCache:
    """prediction_key(text, heading) -> Prediction in one SQLite file per fingerprint."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.path = directory / f"predictions-{fingerprint}.sqlite"
        self._store = HashStore(self.path, "predictions", "prediction", "BLOB")

    def get_many(self, keys: Sequence[str]) -> dict[str, Prediction]:
        out: dict[str, Prediction] = {}
        for k, raw in self._store.get_many(keys).items():
            try:
                out[k] = _from_bytes(raw)
            except (ValueError, TypeError, KeyError, struct.error):   # unreadable: predict again
                continue
        return out

    def put_many(self, items: Sequence[tuple[str, Prediction]]) -> None:
        self._store.put_many((k, _to_bytes(p)) for k, p in items)

    def close(self) -> None:
        self._store.close()
