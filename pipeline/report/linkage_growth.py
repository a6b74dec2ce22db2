"""The average-linkage clusters of an area that grew by a few sentences, found from the merge
log of the area before instead of clustering it again.

A new contribution brings 1-3 new sentences to each of the areas it touches; clustering such an
area of 2,500-4,600 sentences from scratch took 0.1-1.2 s, and a contribution touching 9 areas
about 4 s of CPU in a 10 s re-run. Average linkage merges, at each step, the two clusters at the
least mean distance (scipy's nearest-neighbour chain finds the same merges), so the merges of
the earlier set stay right until one of them meets a new sentence: `grown_clusters` replays the
earlier log and decides afresh only the merges of the clusters that the new sentences change
("open" clusters, whose mean distances to every other cluster it keeps from distance rows of
their members): 0.02-0.06 s per area.

Where two merges that share a cluster tie in height, the order in which they are made changes
the result and scipy breaks the tie by its own order: a tie that involves an open cluster ends
the replay (None: the caller clusters from scratch). A tie among the earlier merges alone is
replayed as scipy made it for the smaller set; clustering the grown set from scratch could
break it otherwise. Distances are rounded to 1e-6 as the full clustering rounds them, so such
ties need two sentence pairs at the same rounded distance, both the closest pair of their
clusters at that moment; in the 16 areas of the 3,000-contribution corpus, growing and
clustering from scratch agreed every time they were compared.
"""

from __future__ import annotations

import heapq
from typing import Any, NamedTuple

import numpy as np

_TIE = 1e-12        # heights closer than this are a tie


def as_distances(similarities: np.ndarray) -> np.ndarray:
    """Cosine distances from cosine similarities of unit vectors, in place: clipped to [0, 2] and
    rounded to 1e-6, so that the same pair gets the same distance however BLAS summed it."""
    np.subtract(1.0, similarities, out=similarities)
    np.clip(similarities, 0.0, 2.0, out=similarities)
    return np.round(similarities, 6, out=similarities)


class MergeLog(NamedTuple):
    """The merges of an average linkage up to the cut, in the order made, numbered as scipy
    numbers them: points 0..n-1, the cluster made by merge r is n + r."""

    left: np.ndarray    # int64
    right: np.ndarray   # int64
    height: np.ndarray  # float64

    @classmethod
    def from_linkage(cls, tree: np.ndarray, cut: float) -> "MergeLog":
        rows = tree[tree[:, 2] <= cut]   # scipy's rows are in height order
        return cls(rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64),
                   rows[:, 2].astype(np.float64))

    def to_lists(self) -> list[list[Any]]:
        """As JSON-able lists (a forked child's result travels as JSON)."""
        return [self.left.tolist(), self.right.tolist(), self.height.tolist()]

    @classmethod
    def from_lists(cls, lists: list[list[Any]]) -> "MergeLog":
        left, right, height = lists
        return cls(np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64),
                   np.asarray(height, dtype=np.float64))

    def to_bytes(self) -> bytes:
        return (self.left.astype("<i8").tobytes() + self.right.astype("<i8").tobytes()
                + self.height.astype("<f8").tobytes())

    @classmethod
    def from_bytes(cls, raw: bytes, n: int) -> "MergeLog | None":
        """The log stored by to_bytes for n points, or None where it is not a valid one (each
        merge joins two clusters that exist and are not yet merged)."""
        if len(raw) % 24:
            return None
        r = len(raw) // 24
        left = np.frombuffer(raw, "<i8", r, 0).astype(np.int64)
        right = np.frombuffer(raw, "<i8", r, 8 * r).astype(np.int64)
        height = np.frombuffer(raw, "<f8", r, 16 * r).astype(np.float64)
        made = n + np.arange(r)
        ids = np.concatenate([left, right])
        if (r >= n or (r and (ids.min() < 0 or np.any(left >= made) or np.any(right >= made)))
                or np.unique(ids).size != 2 * r or not np.all(np.isfinite(height))):
            return None
        return cls(left, right, height)


def distance_rows(unit: np.ndarray, points: list[int]) -> np.ndarray:
    """Rounded cosine distances from `points` to every point."""
    return as_distances(unit[points] @ unit.T)


class _Replay:
    """The state of one replay: clusters by id (points keep their position as id; a merge of
    two earlier clusters keeps the larger's id, a merge of an open cluster takes a new one)."""

    def __init__(self, unit: np.ndarray, cut: float, row_budget: int) -> None:
        n = unit.shape[0]
        cap = 2 * n + 1
        self.unit, self.cut, self.n = unit, cut, n
        self.label = np.arange(n, dtype=np.int64)        # each point's cluster
        self.members: dict[int, list[int]] = {}          # only for clusters bigger than 1
        # size and alive twice: lists for the per-merge reads, arrays for open_cluster's
        self.size = [1] * n + [0] * (cap - n)
        self.size_np = np.zeros(cap)
        self.size_np[:n] = 1.0
        self.alive = [True] * n + [False] * (cap - n)
        self.alive_np = np.zeros(cap, dtype=bool)
        self.alive_np[:n] = True
        self.version = [0] * cap
        self.log_id = list(range(n)) + [-1] * (cap - n)   # id in the log being written
        self.open: dict[int, tuple[list[float], list[tuple[float, int, int]], np.ndarray]] = {}
        self.next_id = n
        self.left: list[int] = []
        self.right: list[int] = []
        self.height: list[float] = []
        self.rows_left = row_budget

    def points(self, k: int) -> list[int]:
        return self.members.get(k) or [k]

    def rows_of(self, k: int) -> np.ndarray | None:
        """Summed distance rows of cluster k's points; None once the budget is spent."""
        pts = self.points(k)
        self.rows_left -= len(pts)
        if self.rows_left < 0:
            return None
        return distance_rows(self.unit, pts).sum(axis=0)

    def open_cluster(self, k: int, rows: np.ndarray) -> None:
        """Keep k's summed distances to every cluster and a heap of those within the cut."""
        sums = np.bincount(self.label, weights=rows, minlength=self.size_np.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            heights = sums / (self.size[k] * self.size_np)
        near = self.alive_np & (heights <= self.cut + _TIE)
        near[k] = False
        heap = [(float(heights[g]), int(g), self.version[g]) for g in np.nonzero(near)[0]]
        heapq.heapify(heap)
        self.open[k] = (sums.tolist(), heap, rows)

    def top(self, k: int) -> tuple[float, int, int] | None:
        heap = self.open[k][1]
        while heap:
            h, g, v = heap[0]
            if self.alive[g] and self.version[g] == v:
                return heap[0]
            heapq.heappop(heap)
        return None

    def second(self, k: int) -> tuple[float, int, int] | None:
        heap = self.open[k][1]
        first = heapq.heappop(heap)
        after = self.top(k)
        heapq.heappush(heap, first)
        return after

    def record(self, a: int, b: int, h: float, into: int) -> None:
        self.left.append(self.log_id[a])
        self.right.append(self.log_id[b])
        self.height.append(h)
        self.log_id[into] = self.n + len(self.height) - 1

    def close(self, x: int) -> None:
        self.alive[x] = self.alive_np[x] = False
        self.version[x] += 1
        self.open.pop(x, None)

    def note_merge(self, a: int, b: int, into: int) -> None:
        """Every other open cluster's summed distance to the merged cluster."""
        size = self.size[into]
        for k, (sums, heap, _) in self.open.items():
            if k == into:
                continue
            s = sums[a] + sums[b]
            sums[into] = s
            h = s / (self.size[k] * size)
            if h <= self.cut + _TIE:
                heapq.heappush(heap, (h, into, self.version[into]))

    def merge_logged(self, a: int, b: int, h: float) -> int:
        """A merge of the earlier log, of two clusters it does not change."""
        keep, gone = (a, b) if self.size[a] >= self.size[b] else (b, a)
        moved = self.members.pop(gone, None) or [gone]
        if keep in self.members:
            self.members[keep].extend(moved)
        else:
            self.members[keep] = [keep, *moved]
        self.label[moved] = keep
        self.size[keep] += self.size[gone]
        self.size_np[keep] = self.size[keep]
        self.record(a, b, h, keep)
        self.close(gone)
        self.version[keep] += 1
        self.note_merge(a, b, keep)
        return keep

    def merge_open(self, k: int, g: int, h: float) -> bool:
        """Open cluster k merges with g (open or not) into a new open cluster."""
        rows_g = self.open[g][2] if g in self.open else self.rows_of(g)
        if rows_g is None:
            return False
        rows = self.open[k][2] + rows_g
        new = self.next_id
        self.next_id += 1
        pts = self.points(k) + self.points(g)
        self.members.pop(k, None)
        self.members.pop(g, None)
        self.members[new] = pts
        self.label[pts] = new
        self.size[new] = len(pts)
        self.size_np[new] = len(pts)
        self.alive[new] = self.alive_np[new] = True
        self.record(k, g, h, new)
        self.close(k)
        self.close(g)
        self.note_merge(k, g, new)
        self.open_cluster(new, rows)
        return True

    def best_open(self) -> tuple[float, int, int] | None:
        best = None
        for k in self.open:
            t = self.top(k)
            if t is not None and (best is None or t[0] < best[0]):
                best = (t[0], k, t[1])
        return best

    def tied_open(self, h: float, pair: set[int]) -> bool:
        """Whether another pair sharing a cluster with `pair` is open at the same height."""
        for k in self.open:
            first = self.top(k)
            for t in (first, self.second(k) if first is not None else None):
                if t is not None and abs(t[0] - h) <= _TIE:
                    other = {k, t[1]}
                    if other != pair and other & pair:
                        return True
        return False

    def clusters(self) -> list[list[int]]:
        out = [sorted(self.points(k)) for k in range(self.next_id) if self.alive[k]]
        return sorted(out, key=lambda c: c[0])

    def merge_log(self) -> MergeLog:
        return MergeLog(np.asarray(self.left, dtype=np.int64),
                        np.asarray(self.right, dtype=np.int64),
                        np.asarray(self.height, dtype=np.float64))


def grown_clusters(unit: np.ndarray, base_positions: list[int], log: MergeLog,
                   cut: float) -> tuple[list[list[int]], MergeLog] | None:
    """The average-linkage clusters (merges up to height `cut`) of the unit vectors `unit`,
    given the merge log of the subset at `base_positions` (in that subset's order); with the
    log of this set, for the next growth. None where a tie involves a new sentence or the
    changed clusters need more distance rows than half the set's (and 64): cluster from
    scratch then."""
    n = unit.shape[0]
    m = len(base_positions)
    state = _Replay(unit, cut, row_budget=n // 2 + 64)
    in_base = np.zeros(n, dtype=bool)
    in_base[base_positions] = True
    for x in np.nonzero(~in_base)[0].tolist():
        rows = state.rows_of(x)
        if rows is None:
            return None
        state.open_cluster(x, rows)
    # the id each log id stands for now (None: a merge the new sentences prevented)
    now: list[int | None] = [int(p) for p in base_positions] + [None] * len(log.height)
    rows_of_log = list(zip(log.left.tolist(), log.right.tolist(), log.height.tolist()))
    r = 0
    while True:
        h_log = np.inf
        while r < len(rows_of_log):
            a, b, h = rows_of_log[r]
            ca, cb = now[a], now[b]
            ok_a = ca is not None and state.alive[ca] and ca not in state.open
            ok_b = cb is not None and state.alive[cb] and cb not in state.open
            if ok_a and ok_b:
                h_log = h
                break
            # this merge cannot happen now: its other side's future differs from the log
            for c, ok in ((ca, ok_a), (cb, ok_b)):
                if ok:
                    rows = state.rows_of(c)
                    if rows is None:
                        return None
                    state.open_cluster(c, rows)
            r += 1
        best = state.best_open()
        if best is not None and best[0] <= cut and best[0] < h_log + _TIE:
            h, k, g = best
            pair = {k, g}
            if abs(h - cut) <= _TIE or state.tied_open(h, pair):
                return None
            ahead = r
            while ahead < len(rows_of_log) and abs(rows_of_log[ahead][2] - h) <= _TIE:
                a, b, _ = rows_of_log[ahead]
                if pair & {now[a], now[b]}:
                    return None
                ahead += 1
            if not state.merge_open(k, g, h):
                return None
            continue
        if h_log > cut:
            break
        a, b, h = rows_of_log[r]
        now[m + r] = state.merge_logged(now[a], now[b], h)   # type: ignore[arg-type]
        r += 1
    return state.clusters(), state.merge_log()
