"""A disk cache of the clusters of one challenge area, so that a re-run regroups only the areas
whose option sentences changed.

Average linkage is not incremental: a new sentence in an area can change every cluster in it,
so an area with any new sentence is clustered again from scratch. But a new contribution adds
sentences to a few areas only, and the clusters of an area depend only on its sentence vectors
(in order) and the threshold: the key is sha256 of exactly those, so a hit is the same result
by construction. The key also carries the clustering code (grouping.py) and the numpy and scipy
versions, so a change to either never serves clusters the new code would not find. At 3,000
contributions clustering took 3 s of a one-file re-run. Values are JSON lists of indices, never
pickles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import orjson

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import code_fingerprint


def cluster_key(vectors: np.ndarray, threshold: float) -> str:
    code = code_fingerprint(("report/grouping.py",), ("numpy", "scipy"))
    h = hashlib.sha256(f"{code}\x1f{threshold!r}\x1f{vectors.shape}\x1f"
                       f"{vectors.dtype.str}\x1f".encode())
    h.update(np.ascontiguousarray(vectors).tobytes())
    return h.hexdigest()


class ClusterCache:
    """cluster_key(vectors, threshold) -> clusters (lists of row indices) in one SQLite file."""

    def __init__(self, directory: Path) -> None:
        self._store = HashStore(directory / "clusters.sqlite", "clusters", "clusters", "BLOB")

    def get(self, key: str, n: int) -> list[list[int]] | None:
        raw = self._store.get_many([key]).get(key)
        if raw is None:
            return None
        try:
            clusters = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        # a partition of range(n), or it is not used
        flat = sorted(i for c in clusters for i in c) if isinstance(clusters, list) else None
        return clusters if flat == list(range(n)) else None

    def put(self, key: str, clusters: list[list[int]]) -> None:
        self._store.put_many([(key, orjson.dumps(clusters))])

    def close(self) -> None:
        self._store.close()
