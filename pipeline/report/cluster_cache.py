"""A disk cache of each challenge area's clusters and of each group's medoid, so that a re-run
regroups only the areas whose option sentences changed, and reads no vectors for the others.

A new sentence in an area can change any cluster in it (average linkage), so an area with a
new sentence is clustered again: from scratch, or, when it holds every sentence of a stored
clustering and a few more, by replaying that clustering's merges (see below). But a new
contribution adds sentences to a few areas only, and the clusters of an area depend only on
its sentence vectors (in the order clustered: of their text, wherever they occur) and the
threshold. A sentence's vector depends only on its text and the encoder (model, sequence
length, precision and runtime: the embedder's model_id), and the embedding cache serves the
same stored vector for a text on every run; so the key is sha256 of the encoder id, the
threshold and the area's distinct sentences in that order. The key also carries the
clustering code (grouping.py, linkage_growth.py, this module) and the numpy and scipy
versions, so a change to either never serves clusters the new code would not find.

A group's medoid and cohesion depend only on its members' vectors: on its distinct sentences
and how many copies of each it holds. The summary key is sha256 of those (sorted) and the same
encoder id and code. The value is the sentences whose summed similarity to the other members
is the highest (several on a tie: the earliest member holding one of them is the medoid) with
that sum. At 3,000 contributions the medoids took 1.3 s of a re-run, and reading the vectors
back for the cluster keys up to a few seconds more with a cold page cache.

Each clustering's merge log (linkage_growth.MergeLog: the merges up to the threshold) is kept
under the area's cluster key with an 8-byte digest of each of its sentences, and each area
names its most recent logs: an area that gained a few sentences since one of them is clustered
by replaying that log (linkage_growth.grown_clusters) instead of from scratch.

An area's groups as a run made them (members, medoid, facts) are kept too, under the area's
provenance (grouping.area_key): a re-run remakes the groups of an area no contribution changed
from the members' positions among the area's candidates instead of grouping them again.

Values are JSON or flat little-endian numbers, never pickles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import orjson

from pipeline.report.linkage_growth import MergeLog

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import code_fingerprint

Summary = list[tuple[int, float]]   # (index into the sorted distinct texts, summed similarity)


def _code() -> str:
    return code_fingerprint(("report/grouping.py", "report/cluster_cache.py",
                             "report/linkage_growth.py"), ("numpy", "scipy"))


_RECENT_LOGS = 4    # an area's logs named as bases: the last few sets it had


def text_digests(texts: Sequence[str]) -> list[bytes]:
    """8-byte digests of sentences, to tell which sentences an earlier log clustered."""
    return [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            for t in texts]


class StoredLog(NamedTuple):
    digests: list[bytes]   # of the sentences clustered, in their order
    log: MergeLog

    def to_bytes(self) -> bytes:
        """The number of sentences (8 bytes), their digests, then the log's bytes."""
        return (len(self.digests).to_bytes(8, "little") + b"".join(self.digests)
                + self.log.to_bytes())

    @classmethod
    def from_bytes(cls, raw: bytes) -> "StoredLog | None":
        """What to_bytes stored, or None where it is cut short or its log is not valid."""
        n = int.from_bytes(raw[:8], "little") if len(raw) >= 8 else -1
        if n < 0 or len(raw) < 8 + 8 * n:
            return None
        log = MergeLog.from_bytes(raw[8 + 8 * n:], n)
        if log is None:
            return None
        return cls([raw[i:i + 8] for i in range(8, 8 + 8 * n, 8)], log)


def cluster_key(texts: Sequence[str], threshold: float, encoder_id: str) -> str:
    """The key of the clusters of an area whose distinct sentences are `texts`, in this order."""
    h = hashlib.sha256(f"clusters\x1f{_code()}\x1f{encoder_id}\x1f{threshold!r}\x1f"
                       f"{len(texts)}\x1f".encode())
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


def summary_key(counts: Sequence[tuple[str, int]], encoder_id: str) -> str:
    """The key of a group's medoid: its distinct sentences, sorted, with their copy counts."""
    h = hashlib.sha256(f"summary\x1f{_code()}\x1f{encoder_id}\x1f{len(counts)}\x1f".encode())
    for text, count in counts:
        h.update(f"{count}\x1f".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


class ClusterCache:
    """Clusters (lists of row indices) and group summaries of one encoder, in one SQLite file."""

    def __init__(self, directory: Path, encoder_id: str) -> None:
        self.encoder_id = encoder_id
        self._store = HashStore(directory / "clusters.sqlite", "clusters", "clusters", "BLOB")
        self._summaries = HashStore(directory / "clusters.sqlite", "summaries", "summary",
                                    "BLOB")
        self._areas = HashStore(directory / "clusters.sqlite", "areas", "area_groups", "BLOB")
        self._logs = HashStore(directory / "clusters.sqlite", "merge_logs", "merge_log", "BLOB")
        self._recent = HashStore(directory / "clusters.sqlite", "recent_logs", "cluster_keys",
                                 "BLOB")

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

    def get_summaries(self, wanted: dict[str, int]) -> dict[str, Summary]:
        """Stored summaries of the keys in `wanted` (key -> the group's number of distinct
        sentences); a value that does not fit its group is left out."""
        out: dict[str, Summary] = {}
        for key, raw in self._summaries.get_many(list(wanted)).items():
            try:
                best = [(int(i), float(total)) for i, total in orjson.loads(raw)]
            except (orjson.JSONDecodeError, TypeError, ValueError):
                continue
            if best and all(0 <= i < wanted[key] for i, _ in best):
                out[key] = best
        return out

    def put_summaries(self, rows: Iterable[tuple[str, Summary]]) -> None:
        self._summaries.put_many((key, orjson.dumps(best)) for key, best in rows)

    def get_areas(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored records (grouping.area_record) of those area keys that have one."""
        out: dict[str, Any] = {}
        for key, raw in self._areas.get_many(list(keys)).items():
            try:
                out[key] = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
        return out

    def put_areas(self, rows: Iterable[tuple[str, Any]]) -> None:
        self._areas.put_many((key, orjson.dumps(record)) for key, record in rows)

    def _recent_key(self, challenge: str, threshold: float) -> str:
        return hashlib.sha256(f"recent\x1f{_code()}\x1f{self.encoder_id}\x1f{threshold!r}\x1f"
                              f"{challenge}".encode()).hexdigest()

    def recent_logs(self, challenge: str, threshold: float) -> list[tuple[str, int]]:
        """(cluster key, number of sentences) of the area's last stored logs, latest first."""
        raw = self._recent.get_many([self._recent_key(challenge, threshold)])
        try:
            rows = orjson.loads(next(iter(raw.values()))) if raw else []
            return [(str(key), int(n)) for key, n in rows]
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return []

    def get_log(self, key: str) -> StoredLog | None:
        raw = self._logs.get_many([key]).get(key)
        return StoredLog.from_bytes(raw) if raw is not None else None

    def put_logs(self, rows: Iterable[tuple[str, float, str, list[bytes], MergeLog]]) -> None:
        """Store each (area, threshold, cluster key, digests, log) and name it the area's latest;
        a log no longer among an area's last few is deleted (a log is 100-200 KB at 3,000
        contributions, and each run that changes an area would add one)."""
        logs, recent, dropped = [], [], []
        for challenge, threshold, key, digests, log in rows:
            logs.append((key, StoredLog(digests, log).to_bytes()))
            named = [(key, len(digests))] + [
                (k, n) for k, n in self.recent_logs(challenge, threshold) if k != key]
            recent.append((self._recent_key(challenge, threshold),
                           orjson.dumps(named[:_RECENT_LOGS])))
            dropped += [k for k, _ in named[_RECENT_LOGS:]]
        self._logs.put_many(logs)
        self._recent.put_many(recent)
        self._logs.delete_many(dropped)

    def close(self) -> None:
        self._store.close()
        self._summaries.close()
        self._areas.close()
        self._logs.close()
        self._recent.close()
