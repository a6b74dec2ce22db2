"""Group policy-option sentences that propose the same thing, per challenge area.

Candidates: the option sentences (policy_option.find_option_sentences) of every paragraph
labelled as a policy option, once for each challenge area the paragraph is labelled with.
Within one area, the distinct sentences are clustered (identical copies follow their text) by
the cosine similarity of their embeddings with average linkage: two clusters merge while the
mean similarity between their members is at least `report.group_threshold`. Average linkage
avoids the chaining of single linkage (A~B, B~C, A≁C ending up in one group) while tolerating
the loose paraphrase that complete linkage splits.

Determinism: an area's distinct sentences are clustered in the order of their text (code
point), similarities are rounded to 1e-6 (so float noise of a re-encode cannot flip a merge),
and ties inside scipy's nearest-neighbour chain follow that fixed order. So an area's clusters
depend on its set of sentences only, not on the files' names or order: a new file among the
others (a contribution named after its organisation, a resubmission) re-clusters only the
areas it brings a new sentence to. In the order of first occurrence, a file whose sentences
occurred in later files re-keyed every area it touched (10 of 16 for a copy of one
contribution at 3,000).

Stable ids: a group's id is derived from its anchor, the member whose key (paragraph id +
sentence hash) sorts first, and its area. It does not depend on run order or on counters; it
stays the same across runs as long as the anchor sentence stays in the group.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter, defaultdict
from dataclasses import astuple, dataclass, field
from functools import cached_property, lru_cache
from itertools import chain, groupby, repeat
from operator import attrgetter, countOf
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np
import orjson

from pipeline.report.cluster_cache import (
    ClusterCache,
    Summary,
    cluster_key,
    summary_key,
    text_digests,
)
from pipeline.forked import ForkedCall, fork_available
from pipeline.report.linkage_growth import MergeLog, as_distances, grown_clusters
from pipeline.report.model import ClassifiedParagraph
from pipeline.report.option_quotes import (
    ParagraphQuotes,
    SentenceFinder,
    make_quotes,
    recall_quotes,
)
from pipeline.report.quotes import Quote, QuoteBook
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

log = logging.getLogger(__name__)

Encoder = Callable[[list[str]], np.ndarray]


@lru_cache(maxsize=1 << 17)
def _text_digest(text: str) -> str:
    # one sentence is the candidate of several areas and, in template-built corpora, of many
    # contributions: hashed once
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


@dataclass(slots=True, unsafe_hash=True)
class OptionCandidate:
    """One option sentence under one of its paragraph's areas. key, order, score and weight are
    computed once, by collect_candidates(): grouping reads each several times for each of the
    178,000 candidates of 3,000 contributions. Never changed once made, but not frozen: a frozen
    dataclass's __init__ (a call per field) took 0.3 s of every run at 3,000, a plain one 0.1 s.
    Equal and hashed by area, quote and addressees, as before."""

    challenge: str
    quote: Quote
    addressees: tuple[str, ...]
    cp: ClassifiedParagraph = field(compare=False, repr=False)
    key: str = field(compare=False, repr=False)   # paragraph id + sentence hash (run-order free)
    order: tuple[str, int, int, str] = field(compare=False, repr=False)  # file, ¶, offset, id
    score: float = field(compare=False, repr=False)   # the paragraph's score for the area
    weight: float = field(compare=False, repr=False)  # score x the paragraph's option score
    # where a group lists the quote: by contributor (case-insensitively), file, paragraph and
    # offset, as one integer (group_facts sorts 178,000 members by it)
    attribution: int = field(compare=False, repr=False)

    @property
    def paragraph_id(self) -> str:
        return self.quote.paragraph_id


@dataclass
class OptionGroup:
    group_id: str
    challenge: str
    members: list[OptionCandidate]
    representative: OptionCandidate
    cohesion: float
    confidence: float
    merged_from: list[str] = field(default_factory=list)

    # The derived facts below are computed once per process, in one pass over the members
    # (members never change after _summarise): the HTML, Word and review-sheet writers all
    # read them, and at 3,000 contributions (178,000 members) eight separate passes took
    # 0.9-1.4 s of every run.
    @cached_property
    def _facts(self) -> "GroupFacts":
        return group_facts(self.members, self.representative)

    @property
    def support(self) -> int:
        """Number of distinct contributions (files) behind the group."""
        return self._facts.support

    @property
    def contributors(self) -> list[str]:
        return self._facts.contributors

    @property
    def attributions(self) -> list[tuple[str, str | None]]:
        """(contributor, organisation) of every supporting contribution, by contributor."""
        return self._facts.attributions

    @property
    def stakeholder_groups(self) -> list[str]:
        return self._facts.stakeholder_groups

    @property
    def roles(self) -> list[str]:
        return self._facts.roles

    @property
    def paragraph_ids(self) -> list[str]:
        return self._facts.paragraph_ids

    @property
    def confirmed_count(self) -> int:
        return self._facts.confirmed_count

    @property
    def ordered_members(self) -> list[OptionCandidate]:
        """Representative first, then by contributor and location."""
        return self._facts.ordered_members

    @property
    def files(self) -> list[str]:
        """The supporting contributions' files, sorted."""
        return self._facts.files


class GroupFacts(NamedTuple):
    support: int
    contributors: list[str]
    attributions: list[tuple[str, str | None]]
    stakeholder_groups: list[str]
    roles: list[str]
    paragraph_ids: list[str]
    confirmed_count: int
    ordered_members: list[OptionCandidate]
    files: list[str]


def _casefold_first(text: str) -> tuple[str, str]:
    return text.casefold(), text   # names that differ only in case: still one fixed order


_CP = attrgetter("cp")
_ADDRESSEES = attrgetter("addressees")
_ATTRIBUTION = attrgetter("attribution")
_ORDER = attrgetter("order")
_KEY = attrgetter("key")
_TEXT = attrgetter("quote.text")
_WEIGHT = attrgetter("weight")
_PARA = attrgetter("para")
_CONFIRMED_OF = attrgetter("cp.confirmed")
_STAKEHOLDER_LABELS = attrgetter("stakeholder_labels")
_CONFIRMED = attrgetter("confirmed")
_SOURCE_FILE = attrgetter("source_file")
_CONTRIBUTOR = attrgetter("contributor")
_WHO = attrgetter("contributor", "organisation")
_OWN_GROUP = attrgetter("stakeholder_group")
_PARAGRAPH_ID = attrgetter("paragraph_id")
_PARAGRAPH_ID_OF = attrgetter("quote.paragraph_id")
_QUOTE_FILE = attrgetter("quote.source_file")
_AREA_INDEX = {k: i for i, k in enumerate(CHALLENGE_KEYS)}


def group_facts(members: list[OptionCandidate], representative: OptionCandidate) -> GroupFacts:
    """What the writers show of a group. Its members' paragraphs (in first-member order) hold
    the file, contributor, organisation, group, labels and review of each: a paragraph's
    sentences share them, so they are read once per paragraph, and by C-level maps (1,100
    groups over 150,000 paragraph visits at 3,000 contributions)."""
    cps = list(map(_CP, members))
    paragraphs = list(dict(zip(map(id, cps), cps)).values())
    paras = list(map(_PARA, paragraphs))
    contributors = set(map(_CONTRIBUTOR, paras))
    rest = sorted((m for m in members if m is not representative), key=_ATTRIBUTION)
    files = sorted(set(map(_SOURCE_FILE, paras)))
    return GroupFacts(
        support=len(files),
        contributors=sorted(contributors, key=_casefold_first),
        attributions=sorted(set(map(_WHO, paras)), key=_attribution_order),
        stakeholder_groups=sorted(set(filter(None, map(_OWN_GROUP, paras))),
                                  key=_casefold_first),
        roles=_roles(members, paragraphs),
        paragraph_ids=list(map(_PARAGRAPH_ID, paras)),
        confirmed_count=len(paragraphs) - countOf(map(_CONFIRMED, paragraphs), None),
        ordered_members=[representative] + rest,
        files=files,
    )


@lru_cache(maxsize=1 << 14)
def _attribution_order(who: tuple[str, str | None]) -> tuple[str, str, str]:
    contributor, organisation = who   # the same few thousand pairs recur across the groups
    return contributor.casefold(), organisation or "", contributor


def _roles(members: list[OptionCandidate], paragraphs: list[ClassifiedParagraph]) -> list[str]:
    """The stakeholder roles a group addresses (its sentences' addressees, its paragraphs'
    stakeholder labels), in taxonomy order. Most groups of a large run name every role within
    their first few hundred members, so the union stops once it holds them all: over every
    member and paragraph it took 0.3 s of each run at 3,000 contributions."""
    found: set[str] = set()
    for start in range(0, len(members), 256):
        found.update(chain.from_iterable(map(_ADDRESSEES, members[start:start + 256])))
        if found.issuperset(STAKEHOLDER_KEYS):
            return list(STAKEHOLDER_KEYS)
    for labels in map(_STAKEHOLDER_LABELS, paragraphs):
        found.update(labels)
        if found.issuperset(STAKEHOLDER_KEYS):
            break
    return [k for k in STAKEHOLDER_KEYS if k in found]


def settle_facts(groups: Iterable[OptionGroup]) -> None:
    """Compute every group's derived facts in this process now: writers forked afterwards
    share them instead of each computing them again."""
    for g in groups:
        g._facts


@dataclass
class GroupingResult:
    groups: list[OptionGroup]
    candidates: list[OptionCandidate]
    paragraph_group: dict[str, str]   # paragraph_id -> option_group of paragraphs.jsonl
    threshold: float
    areas_clustered: int = 0          # areas clustered in this run
    areas_from_cache: int = 0         # areas whose clusters an earlier run had found
    areas_grown: int = 0              # of those clustered, grown from an earlier clustering
    # paragraph id -> its candidates, by (file, paragraph, offset)
    by_paragraph: dict[str, list[OptionCandidate]] = field(default_factory=dict)
    # id() of each candidate -> the id of the group holding it (the groups keep them alive)
    candidate_group: dict[int, str] = field(default_factory=dict)

    def by_challenge(self) -> dict[str, list[OptionGroup]]:
        out: dict[str, list[OptionGroup]] = {k: [] for k in CHALLENGE_KEYS}
        for g in self.groups:
            out[g.challenge].append(g)
        return out

    def group(self, group_id: str) -> OptionGroup | None:
        for g in self.groups:
            if g.group_id == group_id:
                return g
        return None


def collect_candidates(
    paragraphs: Iterable[ClassifiedParagraph],
    quotes: QuoteBook,
    find_sentences: SentenceFinder,
    min_chars: int = 30,
    known: Mapping[str, ParagraphQuotes] | None = None,
    made: dict[str, ParagraphQuotes] | None = None,
) -> list[OptionCandidate]:
    """Option sentences of the policy-option paragraphs, one candidate per (sentence, area).

    A paragraph the classifier calls a policy option but in which the sentence finder locates no
    option sentence contributes its whole text (it still quotes verbatim). A paragraph's quotes
    are those an earlier run made of it (`known`: paragraph id -> ParagraphQuotes, from the
    contribution memo) or are made now, and then put into `made` for the memo to keep.
    """
    chosen: list[tuple[ClassifiedParagraph, list[str]]] = []
    for cp in sorted(paragraphs, key=ClassifiedParagraph.sort_key):
        if not cp.is_policy_option:
            continue
        own = set(cp.challenge_labels)
        challenges = [c for c in CHALLENGE_KEYS if c in own]
        if challenges:
            chosen.append((cp, challenges))
    # stable: contributors equal but for case stay in file order
    by_contributor = sorted(range(len(chosen)),
                            key=lambda i: chosen[i][0].para.contributor.casefold())
    rank = [0] * len(chosen)
    for r, i in enumerate(by_contributor):
        rank[i] = r
    known = known or {}
    out: list[OptionCandidate] = []
    for (cp, challenges), paragraph_rank in zip(chosen, rank):
        para = cp.para
        pid = para.paragraph_id
        kept = known.get(pid)
        pairs = recall_quotes(para, kept, quotes) if kept is not None else None
        if pairs is None:
            pairs, kept = make_quotes(cp, quotes, find_sentences)
            if made is not None:
                made[pid] = kept
        # the paragraph's own parts of its candidates, read once (178,000 candidates per run)
        option_score = cp.option_score
        scored = [(c, cp.challenge_score(c)) for c in challenges]
        order_head, ranked = (para.source_file, para.paragraph), paragraph_rank << 32
        for quote, addressees in pairs:
            text = quote.text
            if len(text) < min_chars:
                continue
            start = quote.para_start
            key = f"{pid}:{_text_digest(text)}"
            order = (*order_head, start, pid)
            for challenge, score in scored:
                out.append(OptionCandidate(challenge, quote, addressees, cp, key, order, score,
                                           score * option_score, ranked | start))
    return out


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def _linkage() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """scipy's (linkage, fcluster), imported on first use (0.3 s: a run without new sentences
    never needs them)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    return linkage, fcluster


def _cut(threshold: float) -> float:
    """The greatest mean distance merged: the mean similarity >= threshold, i.e. the mean
    distance <= 1 - threshold (and a hair over, for the rounding of the distances)."""
    return (1.0 - threshold) + 1e-9


def cluster_with_log(vectors: np.ndarray, threshold: float) -> tuple[list[list[int]], MergeLog]:
    """Average-linkage clusters of embeddings, each cluster's indices ascending, clusters ordered
    by their first index (a fixed order for a fixed input order), with the merges that made them
    (for linkage_growth.grown_clusters). The condensed cosine distances (n(n-1)/2 float64) are
    all the memory it needs, so thousands of sentences per area fit."""
    n = vectors.shape[0]
    if n <= 1:
        return ([[0]] if n == 1 else []), MergeLog.from_linkage(np.zeros((0, 4)), 0.0)
    linkage, fcluster = _linkage()
    tree = linkage(condensed_cosine_distances(_normalise(vectors)), method="average")
    labels = fcluster(tree, t=_cut(threshold), criterion="distance")
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        clusters[int(label)].append(index)
    ordered = sorted(clusters.values(), key=lambda c: c[0])
    return ordered, MergeLog.from_linkage(tree, _cut(threshold))


def cluster_vectors(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """cluster_with_log's clusters."""
    return cluster_with_log(vectors, threshold)[0]


def condensed_cosine_distances(unit: np.ndarray, block_cells: int = 4_000_000) -> np.ndarray:
    """pdist(unit, "cosine") for unit vectors, rounded to 1e-6, computed as blocks of matrix
    products: scipy's pdist loops pair by pair and took 300 of 380 s of a re-run on 3,000
    contributions (~9,000 option sentences per area); BLAS does it in seconds."""
    n = unit.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    rows = max(1, block_cells // max(n, 1))
    pos = 0
    for start in range(0, n - 1, rows):
        stop = min(n - 1, start + rows)
        sims = unit[start:stop] @ unit[start + 1:].T      # rows i, columns j = start+1 .. n-1
        for k, i in enumerate(range(start, stop)):
            row = sims[k, i - start:]                      # columns j > i
            out[pos:pos + row.shape[0]] = row
            pos += row.shape[0]
    return as_distances(out)


class Clustering:
    """cluster_with_log for each (key, vectors), started now and collected by result(), so that
    the caller can summarise the areas it already has meanwhile. The areas that no stored
    clustering can grow (a first run, an area that lost sentences or gained many) take 0.1-1.2 s
    apiece at 3,000 contributions (2,500-4,600 sentences each; plus 0.3 s to import scipy's
    clustering once per process), and scipy's linkage holds the GIL: so a forked child on the
    other core clusters areas from the moment it starts, and the parent clusters areas too once
    it reaches result(). The areas, largest first, wait in a pipe that both read one byte (one
    area's index) at a time, so each takes the next as soon as it is free: which process ends
    up with which depends on how long the parent's own work took, not on an estimate made
    before. With several areas the parent imports scipy's clustering before the fork, so that
    the child need not.
    """

    def __init__(self, todo: Sequence[tuple[str, np.ndarray]], threshold: float) -> None:
        self.threshold = threshold
        self._todo = sorted(todo, key=lambda kv: -kv[1].shape[0])   # largest first
        self._child: ForkedCall | None = None
        self._queue: int | None = None
        if not self._todo or not fork_available():
            return
        if len(self._todo) > 1:
            _linkage()
        read_fd, write_fd = os.pipe()
        os.write(write_fd, bytes(range(len(self._todo))))   # at most 16 areas: a few bytes
        os.close(write_fd)
        self._queue = read_fd
        self._child = ForkedCall(lambda: {key: [found, log.to_lists()]
                                          for key, (found, log) in self._cluster_taken()},
                                 f"clustering up to {len(self._todo)} area(s)")

    def _cluster_taken(self) -> Iterator[tuple[str, tuple[list[list[int]], MergeLog]]]:
        """Take areas from the queue until it is empty, clustering each."""
        while self._queue is not None:
            try:
                taken = os.read(self._queue, 1)
            except OSError:   # the queue is closed: nothing left here
                return
            if not taken:
                return
            key, vectors = self._todo[taken[0]]
            yield key, cluster_with_log(vectors, self.threshold)

    def result(self) -> dict[str, tuple[list[list[int]], MergeLog]]:
        try:
            out = dict(self._cluster_taken())
            if self._child is not None:
                out.update((key, (found, MergeLog.from_lists(log)))
                           for key, (found, log) in self._child.result().items())
                self._child = None
        except BaseException:
            self.cancel()
            raise
        finally:
            self._close_queue()
        # what no process took (no fork here) or a failed child took and did not return
        for key, vectors in self._todo:
            if key not in out:
                out[key] = cluster_with_log(vectors, self.threshold)
        return out

    def cancel(self) -> None:
        if self._child is not None:
            self._child.cancel()
            self._child = None
        self._close_queue()

    def _close_queue(self) -> None:
        if self._queue is not None:
            os.close(self._queue)
            self._queue = None


# An area grows from an earlier clustering of it when it gained at most this many sentences:
# replaying costs about 25 ms per new sentence at 4,600 sentences, clustering it again 0.5-1.2 s.
_MOST_GROWN = 24


def _grow_from_recent(cache: ClusterCache, challenge: str, threshold: float,
                      digests: list[bytes], vectors: Callable[[], np.ndarray],
                      ) -> tuple[list[list[int]], MergeLog] | None:
    """The clusters and log of an area from the largest of its recently stored clusterings
    whose sentences it all still holds, with at most _MOST_GROWN new; None where none fits or
    the replay stops (linkage_growth.grown_clusters)."""
    n = len(digests)
    position: dict[bytes, int] | None = None
    for key, m in sorted(cache.recent_logs(challenge, threshold), key=lambda km: -km[1]):
        if not 0 < n - m <= _MOST_GROWN:
            continue
        base = cache.get_log(key)
        if base is None or len(base.digests) != m:
            continue
        if position is None:
            position = {d: i for i, d in enumerate(digests)}
        try:
            base_positions = [position[d] for d in base.digests]
        except KeyError:    # a sentence it clustered is gone
            continue
        return grown_clusters(_normalise(vectors()), base_positions, base.log, _cut(threshold))
    return None


def make_group_id(challenge: str, member_keys: Iterable[str]) -> str:
    anchor = min(member_keys)
    return "g-" + hashlib.sha1(f"{challenge}\x1f{anchor}".encode("utf-8")).hexdigest()[:10]


def best_texts(members: list[OptionCandidate], texts: list[str],
               vector_of: dict[str, np.ndarray]) -> Summary:
    """The medoid candidates of a group (members in order, more than one; texts: its distinct
    sentences, sorted): each sentence whose members' summed cosine similarity to the other
    members is the highest (several on a tie), as (index in texts, that sum)."""
    # each member's sum as u_i . (sum of u) - u_i . u_i: linear in the group's size (a group of
    # thousands needs no n x n matrix); members holding the same sentence get the same sum
    unit = _normalise(np.stack([vector_of[m.quote.text] for m in members]))
    totals = np.round(unit @ unit.sum(axis=0) - np.einsum("ij,ij->i", unit, unit), 6)
    best: dict[str, float] = {}
    for i in np.flatnonzero(np.isclose(totals, totals.max(), atol=1e-9)):
        best.setdefault(members[i].quote.text, float(totals[i]))
    index = {t: i for i, t in enumerate(texts)}
    return [(index[t], total) for t, total in best.items()]


def _summarise(group_id: str, challenge: str, members: list[OptionCandidate],
               texts: list[str], best: Summary | None) -> OptionGroup:
    """members in order; best: best_texts() of them (None for a single member)."""
    if best is None:
        medoid, cohesion = 0, 1.0
    else:
        # the earliest member (file, paragraph, offset) holding one of the best sentences
        total_of = {texts[i]: total for i, total in best}
        medoid = next(k for k, m in enumerate(members) if m.quote.text in total_of)
        cohesion = total_of[members[medoid].quote.text] / (len(members) - 1)
    scores = list(map(_WEIGHT, members))
    confidence = float(np.mean(scores)) * max(cohesion, 0.0)
    return OptionGroup(group_id=group_id, challenge=challenge, members=members,
                       representative=members[medoid], cohesion=round(cohesion, 4),
                       confidence=round(confidence, 4))


class Area(NamedTuple):
    challenge: str
    copies: dict[str, list[OptionCandidate]]   # sentence -> its candidates, in order
    distinct: list[str]                        # the sentences, in the order of their text
    key: str                                   # of its clusters (cluster_key)


# (group id, area, members, distinct sentences sorted, summary key)
Made = tuple[str, str, list[OptionCandidate], list[str], str | None]


def _make_groups(area: Area, found: list[list[int]], cache: ClusterCache | None,
                 made: list[Made], merged_of: dict[str, list[str]]) -> None:
    """An area's clusters as groups: members in order, reviewers' merges applied, and the key
    of each group's cached summary (by its sentences and their copy counts)."""
    challenge, copies, distinct = area.challenge, area.copies, area.distinct
    # C-level maps: 178,000 members at 3,000 contributions
    clusters = [list(chain.from_iterable(map(copies.__getitem__, map(distinct.__getitem__, cl))))
                for cl in found]
    ids = [make_group_id(challenge, map(_KEY, cl)) for cl in clusters]
    members_of: dict[str, list[OptionCandidate]] = dict(zip(ids, clusters))
    merged_from: dict[str, list[str]] = defaultdict(list)
    # without a reviewer's merge a group's sentences are its cluster's (indices ascending into
    # the sorted `distinct`, so in order) and each one's copies are all of them
    texts_of = (None if _apply_confirmed_merges(members_of, merged_from) else
                dict(zip(ids, ([distinct[i] for i in cl] for cl in found))))
    for gid, members in members_of.items():
        if not members:
            continue
        members.sort(key=_ORDER)
        if texts_of is None:
            counts = Counter(map(_TEXT, members))
            texts = sorted(counts)
            copied = [counts[t] for t in texts]
        else:
            texts = texts_of[gid]
            copied = list(map(len, map(copies.__getitem__, texts)))
        skey = (summary_key(list(zip(texts, copied)), cache.encoder_id)
                if cache is not None and len(members) > 1 else None)
        made.append((gid, challenge, members, texts, skey))
        merged_of[gid] = sorted(merged_from.get(gid, []))


def reviewer_labels(members: Iterable[OptionCandidate]) -> list[tuple[str, tuple[Any, ...]]]:
    """The reviewers' labels of the candidates' paragraphs, each once and in a fixed order, as
    plain data (for the keys of what follows from them)."""
    return sorted({(c.paragraph_id, astuple(c))
                   for c in filter(None, map(_CONFIRMED_OF, members))})


def provenance_key(head: list[Any], files: Iterable[str], members: Iterable[OptionCandidate],
                   file_states: Mapping[str, str],
                   labels: list[tuple[str, tuple[Any, ...]]]) -> str | None:
    """sha256 of `head`, the provenance states of `files` (ContributionMemo.states, which also
    fingerprint the whole package), reviewers' `labels` and the members (paragraph and
    sentence) in order: the key of what is made of those members alone. None when a file has
    no state."""
    try:
        states = [file_states[f] for f in files]
    except KeyError:
        return None
    h = hashlib.sha256(orjson.dumps([*head, states, labels]))
    h.update("\x1f".join(map(_KEY, members)).encode("utf-8"))
    return h.hexdigest()


def area_key(challenge: str, cands: list[OptionCandidate], threshold: float, encoder_id: str,
             file_states: Mapping[str, str]) -> str | None:
    """What an area's groups follow from, where every contribution with a candidate in it has a
    provenance state: those states, its candidates in order, the reviewers' labels of their
    paragraphs, the threshold and the encoder. None when a contribution has no state."""
    files = sorted(set(map(_QUOTE_FILE, cands)))
    return provenance_key(["area", challenge, threshold, encoder_id, files], files, cands,
                          file_states, reviewer_labels(cands))


def area_record(groups: Sequence[OptionGroup], cands: list[OptionCandidate]) -> dict[str, Any]:
    """An area's groups as plain data: members, medoid and ordered members by their positions
    among the area's candidates (`cands`, in order), with the group's numbers and facts."""
    position = {id(c): i for i, c in enumerate(cands)}
    at = position.__getitem__
    return {"n": len(cands), "groups": [
        [g.group_id, list(map(at, map(id, g.members))), at(id(g.representative)), g.cohesion,
         g.confidence, g.merged_from, f.contributors, f.attributions, f.stakeholder_groups,
         f.roles, f.confirmed_count, list(map(at, map(id, f.ordered_members))), f.files]
        for g in groups for f in (g._facts,)]}


def restore_area(record: Any, challenge: str,
                 cands: list[OptionCandidate]) -> list[OptionGroup] | None:
    """The groups of area_record() made again of this run's candidates (the same, in the same
    order, as the record's key says); None when the record does not fit them."""
    try:
        if record["n"] != len(cands):
            return None
        out: list[OptionGroup] = []
        held = 0
        for (gid, idx, rep, cohesion, confidence, merged_from, contributors, attributions,
             stakeholder_groups, roles, confirmed, ordered, files) in record["groups"]:
            if min(idx) < 0 or min(ordered) < 0 or rep < 0:
                return None
            members = list(map(cands.__getitem__, idx))
            group = OptionGroup(group_id=str(gid), challenge=challenge, members=members,
                                representative=cands[rep], cohesion=float(cohesion),
                                confidence=float(confidence), merged_from=list(merged_from))
            group.__dict__["_facts"] = GroupFacts(
                support=len(files), contributors=list(contributors),
                attributions=list(map(tuple, attributions)),
                stakeholder_groups=list(stakeholder_groups), roles=list(roles),
                paragraph_ids=list(dict.fromkeys(map(_PARAGRAPH_ID_OF, members))),
                confirmed_count=int(confirmed),
                ordered_members=list(map(cands.__getitem__, ordered)), files=list(files))
            held += len(members)
            out.append(group)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return out if held == len(cands) else None


def group_options(
    candidates: Sequence[OptionCandidate],
    encode: Encoder,
    threshold: float,
    cache: ClusterCache | None = None,
    file_states: Mapping[str, str] | None = None,
) -> GroupingResult:
    """Cluster candidates per area; apply reviewers' confirmed merges; summarise each group.
    Without a cache every distinct sentence is encoded in one call. With a cache (of this
    encoder), an area whose sentences are unchanged since an earlier run reuses that run's
    clusters, and a group whose sentences and copies are unchanged its medoid: only the
    sentences of the rest are encoded. With provenance states too (file_states: source_file ->
    ContributionMemo.states), an area whose key (area_key) is unchanged gets its groups back
    as an earlier run made them (members, medoid, facts) instead of being grouped again."""
    # by area, then order: sorted by order (C key; collect_candidates already gives that
    # order), then split by area, both stable
    by_challenge: dict[str, list[OptionCandidate]] = {k: [] for k in CHALLENGE_KEYS}
    in_order = sorted(candidates, key=_ORDER)
    for c in in_order:
        by_challenge[c.challenge].append(c)
    ordered = [c for k in CHALLENGE_KEYS for c in by_challenge[k]]
    by_paragraph = {pid: list(cands) for pid, cands in groupby(in_order, key=_PARAGRAPH_ID_OF)}
    del in_order
    vector_of: dict[str, np.ndarray] = {}

    def encode_missing(texts: Iterable[str]) -> None:
        missing = sorted(set(texts).difference(vector_of))
        if missing:
            vector_of.update(zip(missing, np.asarray(encode(missing))))

    if cache is None:
        encode_missing(c.quote.text for c in ordered)

    # the areas whose key an earlier run stored: their groups are made again of its record once
    # the other areas' clustering has started
    area_keys: dict[str, str] = {}
    held: dict[str, Any] = {}
    if cache is not None and file_states:
        for challenge in CHALLENGE_KEYS:
            key = (area_key(challenge, by_challenge[challenge], threshold, cache.encoder_id,
                            file_states) if by_challenge[challenge] else None)
            if key is not None:
                area_keys[challenge] = key
        records = cache.get_areas(area_keys.values())
        held = {c: records[k] for c, k in area_keys.items() if k in records}

    # Each distinct sentence is one point: the same sentence pasted into many contributions joins
    # its group once (it does not outweigh different wordings of the proposal), and the
    # condensed distances grow with the distinct sentences, not the copies (3,000 template-built
    # contributions: 2.5 GB -> a few hundred MB per area).
    def prepare(challenge: str) -> tuple[Area, list[list[int]] | None]:
        copies: dict[str, list[OptionCandidate]] = defaultdict(list)
        for c in by_challenge[challenge]:
            copies[c.quote.text].append(c)
        distinct = sorted(copies)             # the clusters of a set, wherever it occurs
        key = (cluster_key(distinct, threshold, cache.encoder_id) if cache is not None
               else challenge)
        found = cache.get(key, len(distinct)) if cache is not None else None
        return Area(challenge, copies, distinct, key), found

    areas: list[Area] = []
    found_of: dict[str, list[list[int]]] = {}
    todo: dict[str, list[str]] = {}   # cluster key -> distinct sentences of an uncached area
    area_of: dict[str, str] = {}      # cluster key -> (the first) area with those sentences
    for challenge in CHALLENGE_KEYS:
        if not by_challenge[challenge] or challenge in held:
            continue
        area, found = prepare(challenge)
        if found is not None:
            found_of[area.key] = found
        elif area.key not in found_of:
            todo[area.key] = area.distinct
            area_of.setdefault(area.key, challenge)
        areas.append(area)
    encode_missing(t for distinct in todo.values() for t in distinct)
    # an area that gained a few sentences since a stored clustering of it: grown from its log
    digests_of = ({key: text_digests(distinct) for key, distinct in todo.items()}
                  if cache is not None else {})
    logs: list[tuple[str, float, str, list[bytes], MergeLog]] = []
    if cache is not None:
        for key, distinct in list(todo.items()):
            grown = _grow_from_recent(cache, area_of[key], threshold, digests_of[key],
                                      lambda: np.stack([vector_of[t] for t in distinct]))
            if grown is not None:
                found_of[key] = grown[0]
                cache.put(key, grown[0])
                logs.append((area_of[key], threshold, key, digests_of[key], grown[1]))
                del todo[key]
    areas_grown = len(logs)
    clustering = Clustering([(key, np.stack([vector_of[t] for t in distinct]))
                             for key, distinct in todo.items()], threshold)
    # the areas already clustered are made into groups, summarised and their facts found
    # while the others are clustered (the parent takes fewer areas from the queue meanwhile)
    merged_of: dict[str, list[str]] = {}

    def summarised(made: list[Made]) -> list[OptionGroup]:
        keys = {skey: len(texts) for _, _, _, texts, skey in made if skey is not None}
        known = cache.get_summaries(keys) if cache is not None and keys else {}
        encode_missing(t for _, _, members, texts, skey in made
                       if len(members) > 1 and skey not in known for t in texts)
        out: list[OptionGroup] = []
        fresh: list[tuple[str, Summary]] = []
        for gid, challenge, members, texts, skey in made:
            best = None
            if len(members) > 1:
                best = known.get(skey) if skey is not None else None
                if best is None:
                    best = best_texts(members, texts, vector_of)
                    if skey is not None:
                        fresh.append((skey, best))
            group = _summarise(gid, challenge, members, texts, best)
            group.merged_from = merged_of[gid]
            out.append(group)
        if cache is not None and fresh:
            cache.put_summaries(fresh)
        return out

    kept: list[OptionGroup] = []
    unfit: list[str] = []   # areas whose record does not fit their candidates: grouped as usual
    try:
        for challenge, record in held.items():
            restored = restore_area(record, challenge, by_challenge[challenge])
            if restored is None:
                unfit.append(challenge)
            else:
                kept.extend(restored)
        made: list[Made] = []
        for area in areas:
            if area.key in found_of:
                _make_groups(area, found_of[area.key], cache, made, merged_of)
        groups = summarised(made)
        settle_facts(groups)
        clustered = clustering.result()
    except BaseException:
        clustering.cancel()
        raise
    for key, (found, log) in clustered.items():
        found_of[key] = found
        if cache is not None:
            cache.put(key, found)
            logs.append((area_of[key], threshold, key, digests_of[key], log))
    if cache is not None and logs:
        cache.put_logs(logs)
    made = []
    for area in areas:
        if area.key in clustered:
            _make_groups(area, found_of[area.key], cache, made, merged_of)
    clustered_here = 0
    for challenge in unfit:
        area, found = prepare(challenge)
        found = found if found is not None else found_of.get(area.key)
        if found is None:
            encode_missing(area.distinct)
            found = cluster_vectors(np.stack([vector_of[t] for t in area.distinct]), threshold)
            clustered_here += 1
            if cache is not None:
                cache.put(area.key, found)
        _make_groups(area, found, cache, made, merged_of)
    groups += summarised(made)
    if cache is not None and area_keys:
        made_of: dict[str, list[OptionGroup]] = defaultdict(list)
        for g in groups:
            made_of[g.challenge].append(g)
        cache.put_areas((area_keys[c], area_record(made_of[c], by_challenge[c]))
                        for c in area_keys if c not in held or c in unfit)
    groups += kept

    groups.sort(key=lambda g: (_AREA_INDEX[g.challenge], -g.support, -g.confidence,
                               g.group_id))
    # each candidate's group, by C-level maps (a Python pass over the 178,000 members of 3,000
    # contributions took 0.26 s); a reviewer's merge has moved some already
    candidate_group: dict[int, str] = {}
    for g in groups:
        candidate_group.update(zip(map(id, g.members), repeat(g.group_id)))
    paragraph_group = {pid: candidate_group[id(_lead(by_paragraph[pid]))]
                       for pid in sorted(by_paragraph)}
    return GroupingResult(groups=groups, candidates=list(ordered),
                          paragraph_group=paragraph_group, threshold=threshold,
                          areas_clustered=len(todo) + areas_grown + clustered_here,
                          areas_grown=areas_grown,
                          areas_from_cache=(len(areas) + len(held) - len(todo) - areas_grown
                                            - clustered_here),
                          by_paragraph=by_paragraph, candidate_group=candidate_group)


def _apply_confirmed_merges(members_of: dict[str, list[OptionCandidate]],
                            merged_from: dict[str, list[str]]) -> bool:
    """Move the sentences of paragraphs a reviewer merged into group G (when G exists).
    Returns whether any member carries a merge (and so may have moved)."""
    # reviewers' labels are few: the members are scanned for a merge in C first, and the pass
    # below (0.15 s of every run at 3,000) is made only where one is found
    if not any(label.merge_into for label in
               filter(None, map(_CONFIRMED_OF, chain.from_iterable(members_of.values())))):
        return False
    for gid in list(members_of):
        keep: list[OptionCandidate] = []
        for m in members_of[gid]:
            target = m.cp.confirmed.merge_into if m.cp.confirmed is not None else None
            if target and target != gid and target in members_of:
                members_of[target].append(m)
                if gid not in merged_from[target]:
                    merged_from[target].append(gid)
            else:
                if target and target not in members_of and target != gid:
                    log.info("merge target %s of %s is not a group of this run", target,
                             m.paragraph_id)
                keep.append(m)
        members_of[gid] = keep
    return True


def _lead(cands: list[OptionCandidate]) -> OptionCandidate:
    """The candidate whose group names its paragraph's in paragraphs.jsonl: the paragraph's
    first option sentence (by offset) under its top-scoring area (the taxonomy's first on a
    tie). `cands`: the paragraph's, by _ORDER (its first sentence's first)."""
    best = cands[0]
    start = best.quote.para_start
    for c in cands:
        if c.quote.para_start != start:
            break
        if (-c.score, _AREA_INDEX[c.challenge]) < (-best.score, _AREA_INDEX[best.challenge]):
            best = c
    return best
