"""Growing an area's clusters from its earlier merge log gives the clusters of clustering it
from scratch, or declines."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.report.grouping import _cut, _normalise, cluster_with_log
from pipeline.report.linkage_growth import MergeLog, grown_clusters


def _blobs(rng: np.random.Generator, n: int, dim: int = 12, centres: int = 0,
           spread: float = 0.0) -> np.ndarray:
    middle = rng.normal(size=(centres or int(rng.integers(2, 7)), dim))
    return (middle[rng.integers(0, len(middle), n)]
            + rng.normal(scale=spread or rng.uniform(0.2, 0.8), size=(n, dim)))


@pytest.mark.parametrize("seed", range(40))
def test_grown_clusters_are_those_of_clustering_from_scratch(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 160))
    vectors = _blobs(rng, n)
    threshold = float(rng.uniform(0.4, 0.9))
    new = set(rng.choice(n, size=int(rng.integers(1, 8)), replace=False).tolist())
    base = [i for i in range(n) if i not in new]
    _, base_log = cluster_with_log(vectors[base], threshold)
    grown = grown_clusters(_normalise(vectors), base, base_log, _cut(threshold))
    if grown is None:     # a tie with a new point: declined, never wrong
        return
    expected, _ = cluster_with_log(vectors, threshold)
    assert grown[0] == expected


def test_a_grown_log_grows_again():
    """Three growths in a row, each from the log the one before wrote, end where clustering the
    whole set from scratch does."""
    rng = np.random.default_rng(11)
    vectors = _blobs(rng, 300, dim=24, centres=40, spread=0.4)
    threshold = 0.62
    order = rng.permutation(300)
    steps = [sorted(order[:k].tolist()) for k in (280, 286, 293, 300)]
    _, log = cluster_with_log(vectors[steps[0]], threshold)
    for before, now in zip(steps, steps[1:]):
        at = {p: i for i, p in enumerate(now)}
        grown = grown_clusters(_normalise(vectors[now]), [at[p] for p in before], log,
                               _cut(threshold))
        assert grown is not None
        found, log = grown
        assert found == cluster_with_log(vectors[now], threshold)[0]
    assert len(log.height) == 300 - len(found) and any(len(c) > 1 for c in found)


def test_a_new_point_tied_between_two_clusters_is_declined():
    # x is at the same distance from a and from b, which are far apart: which one it joins is
    # the clustering's tie-break, so the growth leaves it to a clustering from scratch
    a, b = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    x = [1.0, 1.0, 0.0]
    far = [0.0, 0.0, 1.0]
    vectors = np.array([a, b, far, x])
    _, log = cluster_with_log(vectors[:3], 0.62)
    assert grown_clusters(_normalise(vectors), [0, 1, 2], log, _cut(0.62)) is None
    # not tied: it joins a
    vectors[3] = [1.0, 0.9, 0.0]
    assert grown_clusters(_normalise(vectors), [0, 1, 2], log, _cut(0.62))[0] == \
        cluster_with_log(vectors, 0.62)[0] == [[0, 3], [1], [2]]


def test_too_many_changed_rows_are_declined():
    rng = np.random.default_rng(5)
    vectors = _blobs(rng, 400)
    base = list(range(100))
    _, log = cluster_with_log(vectors[base], 0.62)
    assert grown_clusters(_normalise(vectors), base, log, _cut(0.62)) is None


def test_a_merge_log_reads_back_and_a_damaged_one_is_refused():
    rng = np.random.default_rng(2)
    _, log = cluster_with_log(_blobs(rng, 50), 0.5)
    back = MergeLog.from_bytes(log.to_bytes(), 50)
    assert back is not None
    assert all(np.array_equal(x, y) for x, y in zip(back, log))
    raw = log.to_bytes()
    r = len(log.height)
    assert MergeLog.from_bytes(raw[:-1], 50) is None           # cut short
    assert MergeLog.from_bytes(raw, 10) is None                 # ids beyond the points
    twice = bytearray(raw)
    twice[8:16] = twice[0:8]                                    # a cluster merged twice
    assert MergeLog.from_bytes(bytes(twice), 50) is None
    nan = bytearray(raw)
    nan[16 * r:16 * r + 8] = np.array([np.nan]).tobytes()
    assert MergeLog.from_bytes(bytes(nan), 50) is None
    assert MergeLog.from_bytes(b"", 5) is not None              # no merges


def test_stored_logs_name_the_latest_few_per_area(tmp_path):
    from pipeline.report.cluster_cache import ClusterCache, text_digests

    cache = ClusterCache(tmp_path, "toy")
    rng = np.random.default_rng(4)
    for i in range(6):
        texts = [f"sentence {j}" for j in range(10 + i)]
        _, log = cluster_with_log(_blobs(rng, len(texts)), 0.6)
        cache.put_logs([("mobile", 0.6, f"key{i}", text_digests(texts), log)])
    assert cache.recent_logs("mobile", 0.6) == [("key5", 15), ("key4", 14), ("key3", 13),
                                                ("key2", 12)]
    assert cache.recent_logs("mobile", 0.7) == [] and cache.recent_logs("diversity", 0.6) == []
    stored = cache.get_log("key5")
    assert stored is not None and stored.digests == text_digests(
        [f"sentence {j}" for j in range(15)])
    # a stored value cut short is refused
    from pipeline.report.cluster_cache import StoredLog

    raw = stored.to_bytes()
    assert StoredLog.from_bytes(raw).digests == stored.digests
    assert StoredLog.from_bytes(raw[:20]) is None and StoredLog.from_bytes(b"") is None
    # the logs no area names any more are gone
    assert cache.get_log("key1") is None and cache.get_log("key2") is not None
    assert cache.get_log("nothing") is None
