"""Grouping of policy-option sentences: right groups, deterministic, stable ids."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from pipeline.report.grouping import (
    cluster_vectors,
    cluster_with_log,
    collect_candidates,
    group_facts,
    group_options,
    make_group_id,
)
from pipeline.taxonomy_keys import STAKEHOLDER_KEYS
from pipeline.report.quotes import QuoteBook
from pipeline.review.confirmed import ConfirmedLabel


def _group(inp, finder, encode, threshold):
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    return group_options(cands, encode, threshold)


def _signature(grouping):
    return [(g.group_id, g.challenge, tuple(m.key for m in g.members),
             g.representative.key, g.support, g.cohesion, g.confidence)
            for g in grouping.groups]


def test_average_linkage_does_not_chain():
    # A~B and B~C are similar (cos 0.81), A and C are not (cos 0.30): single linkage would
    # chain all three.
    half = np.arccos(0.30) / 2
    vectors = np.array([[1.0, 0.0], [np.cos(half), np.sin(half)],
                        [np.cos(2 * half), np.sin(2 * half)]])
    clusters = cluster_vectors(vectors, 0.72)
    assert sorted(map(len, clusters)) == [1, 2]
    assert cluster_vectors(vectors, 0.2) == [[0, 1, 2]]
    assert cluster_vectors(np.ones((1, 4)), 0.7) == [[0]]
    assert cluster_vectors(np.zeros((0, 4)), 0.7) == []


def test_candidates_are_option_sentences_of_option_paragraphs(make_input, finder):
    inp = make_input()
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    by_pid = {cp.para.paragraph_id: cp for cp in inp.paragraphs}
    assert cands
    for c in cands:
        cp = by_pid[c.paragraph_id]
        assert cp.is_policy_option and c.challenge in cp.challenges
    # a paragraph with two areas gives its sentence to both
    north = [c for c in cands if "open recursion" in c.quote.text]
    assert {c.challenge for c in north} == {"shared_critical_services", "reliability_access"}
    # descriptions (no option) never become candidates
    assert not any("suffered volumetric attacks" in c.quote.text for c in cands)
    # the finder's addressees are kept
    assert any("private_sector" in c.addressees for c in cands)


def test_groups_carry_support_contributors_roles(make_input, finder, encode_tfidf):
    grouping = _group(make_input(), finder, encode_tfidf, 0.25)
    for g in grouping.groups:
        members = {m.quote.text for m in g.members}
        assert g.representative.quote.text in members          # a real member sentence
        assert g.support == len({m.quote.source_file for m in g.members})
        assert set(g.contributors) == {m.quote.contributor for m in g.members}
        assert 0.0 <= g.confidence <= 1.0
        assert g.group_id.startswith("g-")
    ids = [g.group_id for g in grouping.groups]
    assert len(ids) == len(set(ids))
    # every paragraph's option_group is a group holding one of its sentences
    for pid, gid in grouping.paragraph_group.items():
        assert pid in grouping.group(gid).paragraph_ids


def test_group_facts_in_one_pass_equal_each_fact_computed_on_its_own(make_input, finder):
    inp = make_input()
    # one reviewer label, so that confirmed_count and a reviewer's stakeholders count too
    labelled = next(cp for cp in inp.paragraphs if cp.is_policy_option)
    labelled.confirmed = ConfirmedLabel(
        paragraph_id=labelled.para.paragraph_id, challenges=tuple(labelled.challenges),
        stakeholders=("academia",), is_policy_option=True, decision="accept",
        reviewer="t", reviewed_at="2026-12-03T10:00:00+00:00")
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    assert len(cands) > 10
    random.Random(3).shuffle(cands)
    members, representative = cands, cands[len(cands) // 2]
    facts = group_facts(members, representative)

    assert facts.support == len({m.quote.source_file for m in members})
    assert facts.contributors == sorted({m.quote.contributor for m in members}, key=str.casefold)
    assert facts.attributions == sorted({(m.quote.contributor, m.cp.para.organisation)
                                         for m in members},
                                        key=lambda p: (p[0].casefold(), p[1] or ""))
    assert facts.stakeholder_groups == sorted({m.cp.para.stakeholder_group for m in members
                                               if m.cp.para.stakeholder_group},
                                              key=str.casefold)
    roles = {r for m in members for r in m.addressees} | \
        {r for m in members for r in m.cp.stakeholders}
    assert facts.roles == [k for k in STAKEHOLDER_KEYS if k in roles]
    assert "academia" in facts.roles
    # the union of roles stops once it holds every role: the same roles for any members
    # (a few, some, and more than one chunk of 256)
    for some in (members[:1], members[:7], members * 40):
        named = {r for m in some for r in m.addressees} | \
            {r for m in some for r in m.cp.stakeholders}
        assert group_facts(some, some[0]).roles == [k for k in STAKEHOLDER_KEYS if k in named]
    assert "users" not in facts.roles
    # every role named: by the sentences of the first chunk, or by a paragraph's reviewer
    broad = [replace(m, addressees=STAKEHOLDER_KEYS) for m in members[:2]]
    assert group_facts(broad + members * 40, broad[0]).roles == list(STAKEHOLDER_KEYS)
    everyone = next(m.cp for m in members if m.cp is not labelled)
    everyone.confirmed = replace(labelled.confirmed, paragraph_id=everyone.para.paragraph_id,
                                 stakeholders=STAKEHOLDER_KEYS)
    assert group_facts(members * 40, members[0]).roles == list(STAKEHOLDER_KEYS)
    assert facts.paragraph_ids == list(dict.fromkeys(m.paragraph_id for m in members))
    assert facts.confirmed_count == 1
    assert facts.ordered_members[0] is representative
    assert facts.ordered_members[1:] == sorted(
        (m for m in members if m is not representative),
        key=lambda m: (m.quote.contributor.casefold(),) + m.order)


def test_grouping_is_deterministic_under_input_order(make_input, finder, encode_tfidf):
    first = _group(make_input(), finder, encode_tfidf, 0.25)
    for seed in (1, 2, 3):
        inp = make_input()
        random.Random(seed).shuffle(inp.paragraphs)
        again = _group(inp, finder, encode_tfidf, 0.25)
        assert _signature(again) == _signature(first)
        assert again.paragraph_group == first.paragraph_group


def test_group_ids_do_not_depend_on_other_contributions(make_input, finder, encode_tfidf):
    base = _group(make_input(), finder, encode_tfidf, 0.25)
    other = {
        "source_file": "late/zz-observatory.docx", "contributor": "Cryptocurrency Observatory",
        "stakeholder_group": "Civil society",
        "paragraphs": [{"text": "Exchanges should verify the identity of their customers and "
                                "report suspicious cryptocurrency transfers to the financial "
                                "intelligence unit.", "challenges": ["cryptocurrency"],
                        "stakeholders": ["private_sector"], "is_policy_option": True}]}
    more = _group(make_input(add=(other,)), finder, encode_tfidf, 0.25)
    before = {g.group_id: tuple(m.key for m in g.members) for g in base.groups}
    after = {g.group_id: tuple(m.key for m in g.members) for g in more.groups}
    for gid, members in before.items():
        assert after[gid] == members
    assert len(after) == len(before) + 1
    assert make_group_id("mobile", ["b", "a"]) == make_group_id("mobile", ["a", "b", "c"])


def test_confirmed_merge_moves_a_paragraph_into_the_target_group(make_input, finder,
                                                                 encode_tfidf):
    inp = make_input()
    grouping = _group(inp, finder, encode_tfidf, 0.25)
    target = next(g for g in grouping.groups if g.challenge == "reliability_access")
    mover = next(cp for cp in inp.paragraphs if cp.is_policy_option
                 and "reliability_access" in cp.challenges
                 and cp.para.paragraph_id not in target.paragraph_ids)
    inp2 = make_input()
    for cp in inp2.paragraphs:
        if cp.para.paragraph_id == mover.para.paragraph_id:
            cp.confirmed = ConfirmedLabel(
                paragraph_id=cp.para.paragraph_id, decision="merge",
                challenges=("reliability_access",), stakeholders=None, is_policy_option=True,
                reviewer="Ana", reviewed_at="2026-11-23T10:00:00+00:00",
                merge_into=target.group_id)
    merged = _group(inp2, finder, encode_tfidf, 0.25)
    new_target = merged.group(target.group_id)
    assert mover.para.paragraph_id in new_target.paragraph_ids
    assert merged.paragraph_group[mover.para.paragraph_id] == target.group_id
    assert new_target.merged_from


@pytest.mark.slow
def test_sentence_embeddings_group_the_same_proposal(make_input, finder, minilm):
    """With the real embedder and the configured threshold, paraphrases of one proposal from
    different contributions form one group; different proposals stay apart."""
    from pipeline.config import load_settings

    threshold = load_settings().report.group_threshold
    grouping = _group(make_input(), finder, minilm, threshold)
    bcp38 = [g for g in grouping.groups if g.challenge == "reliability_access"
             and any("BCP 38" in m.quote.text for m in g.members)]
    assert len(bcp38) == 1 and bcp38[0].support == 3
    assert set(bcp38[0].contributors) == {"Halcyon Telecom", "NorthCERT",
                                          "Ministry of Digital Economy of Valdoria"}
    resolvers = [g for g in grouping.groups if g.challenge == "reliability_access"
                 and any("open recursion" in m.quote.text for m in g.members)]
    assert len(resolvers) == 1 and resolvers[0] is not bcp38[0]
    campaigns = [g for g in grouping.groups if g.challenge == "awareness_capacity"
                 and any("campaigns" in m.quote.text for m in g.members)]
    assert len(campaigns) == 1 and campaigns[0].support == 3
    assert "government" in campaigns[0].roles
    # the same twice (embedding cache hit the second time): identical groups and ids
    assert _signature(_group(make_input(), finder, minilm, threshold)) == _signature(grouping)


def test_clustering_is_average_linkage_on_cosine_distance():
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    rng = np.random.default_rng(7)
    base = rng.normal(size=(6, 32))
    vectors = np.concatenate([base + rng.normal(scale=0.3, size=base.shape) for _ in range(4)])
    tree = linkage(pdist(vectors, metric="cosine"), method="average")
    for t in (0.3, 0.6, 0.8, 0.95):
        labels = fcluster(tree, t=(1.0 - t) + 1e-9, criterion="distance")
        expected: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            expected.setdefault(int(label), []).append(i)
        assert cluster_vectors(vectors, t) == sorted(expected.values(), key=lambda c: c[0])
    assert sorted(map(len, cluster_vectors(vectors, 0.6))) == [4] * 6


@pytest.mark.parametrize("block_cells", [1, 7, 4_000_000])
def test_blocked_cosine_distances_equal_scipy_pdist(block_cells):
    from scipy.spatial.distance import pdist

    from pipeline.report.grouping import _normalise, condensed_cosine_distances

    rng = np.random.default_rng(3)
    for n in (2, 5, 40):
        unit = _normalise(rng.normal(size=(n, 16)))
        expected = np.round(np.clip(pdist(unit, metric="cosine"), 0.0, 2.0), 6)
        got = condensed_cosine_distances(unit, block_cells=block_cells)
        assert got.shape == expected.shape
        assert np.allclose(got, expected, atol=2e-6)


def test_a_sentence_pasted_by_several_contributions_is_one_point_of_one_group(
        make_input, finder, encode_tfidf):
    pasted = ("Exchanges should verify the identity of their customers and report suspicious "
              "cryptocurrency transfers to the financial intelligence unit.")
    extra = tuple({
        "source_file": f"late/copy-{i}.docx", "contributor": f"Signatory {i}",
        "stakeholder_group": "Civil society",
        "paragraphs": [{"text": pasted, "challenges": ["cryptocurrency"],
                        "stakeholders": ["private_sector"], "is_policy_option": True}]}
        for i in range(3))
    seen: list[list[str]] = []

    def encode(texts):
        seen.append(list(texts))
        return encode_tfidf(texts)

    grouping = _group(make_input(add=extra), finder, encode, 0.25)
    assert sum(t == pasted for batch in seen for t in batch) == 1   # encoded once
    holding = [g for g in grouping.groups if any(m.quote.text == pasted for m in g.members)]
    assert len(holding) == 1
    copies = [m for m in holding[0].members if m.quote.text == pasted]
    assert {m.quote.source_file for m in copies} == {f"late/copy-{i}.docx" for i in range(3)}
    assert holding[0].support >= 3
    # clustering the distinct sentences gives the same groups whatever the number of copies
    once = _group(make_input(add=extra[:1]), finder, encode_tfidf, 0.25)
    assert sorted(len({m.quote.text for m in g.members}) for g in once.groups) == \
        sorted(len({m.quote.text for m in g.members}) for g in grouping.groups)


def test_cached_clusters_give_the_same_groups_and_a_new_sentence_reclusters_its_area(
        make_input, finder, tmp_path):
    from sklearn.feature_extraction.text import HashingVectorizer

    from pipeline.report.cluster_cache import ClusterCache, cluster_key

    hashing = HashingVectorizer(n_features=512, alternate_sign=False)
    encoded: list[str] = []

    def encode_tfidf(texts):   # a vector per text that does not depend on the other texts
        encoded.extend(texts)
        return hashing.transform(texts).toarray()

    inp = make_input()
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    direct = group_options(cands, encode_tfidf, 0.25)
    cache = ClusterCache(tmp_path, "hashing-512")
    first = group_options(cands, encode_tfidf, 0.25, cache)
    assert first.areas_clustered == len({c.challenge for c in cands}) and \
        first.areas_from_cache == 0
    encoded.clear()
    again = group_options(cands, encode_tfidf, 0.25, ClusterCache(tmp_path, "hashing-512"))
    assert again.areas_from_cache == first.areas_clustered and again.areas_clustered == 0
    assert encoded == []   # unchanged areas and groups: no vector needed
    assert _signature(direct) == _signature(first) == _signature(again)
    assert any(len({m.quote.text for m in g.members}) > 1 for g in again.groups)
    # another threshold, or another encoder, is another key
    assert group_options(cands, encode_tfidf, 0.5, cache).areas_from_cache == 0
    other_encoder = group_options(cands, encode_tfidf, 0.25, ClusterCache(tmp_path, "other"))
    assert other_encoder.areas_from_cache == 0
    # the largest area without its first sentence: only that area is clustered again, and
    # only its sentences are encoded
    from collections import Counter

    area = Counter(c.challenge for c in cands).most_common(1)[0][0]
    dropped = next(c.quote.text for c in cands if c.challenge == area)
    fewer = [c for c in cands if not (c.challenge == area and c.quote.text == dropped)]
    encoded.clear()
    partial = group_options(fewer, encode_tfidf, 0.25, cache)
    assert partial.areas_clustered == 1 and partial.areas_grown == 0   # lost one: from scratch
    assert partial.areas_from_cache == first.areas_clustered - 1
    assert set(encoded) == {c.quote.text for c in fewer if c.challenge == area}
    assert _signature(partial) == _signature(group_options(fewer, encode_tfidf, 0.25))
    # the whole area again, after a run without two of its sentences: grown from that run's
    # clustering of it (no other area changed), with the groups of a run from scratch
    two = {c.quote.text for c in cands if c.challenge == area}
    two = set(sorted(two)[:2])
    without_two = [c for c in cands if not (c.challenge == area and c.quote.text in two)]
    grow_cache = ClusterCache(tmp_path / "grow", "hashing-512")
    group_options(without_two, encode_tfidf, 0.25, grow_cache)
    grown = group_options(cands, encode_tfidf, 0.25, grow_cache)
    assert (grown.areas_clustered, grown.areas_grown) == (1, 1)
    assert grown.areas_from_cache == first.areas_clustered - 1
    assert _signature(grown) == _signature(direct)
    # a stored value that is not a partition of the area's sentences is never used
    texts = ["a", "b", "c"]
    cache.put(cluster_key(texts, 0.25, "hashing-512"), [[0, 1]])
    assert cache.get(cluster_key(texts, 0.25, "hashing-512"), 3) is None
    cache.put(cluster_key(texts, 0.25, "hashing-512"), [[0, 2], [1]])
    assert cache.get(cluster_key(texts, 0.25, "hashing-512"), 3) == [[0, 2], [1]]


def test_a_file_bringing_no_new_sentence_reclusters_no_area(make_input, specs, finder,
                                                            tmp_path):
    """An area's clusters depend on its set of sentences, not on where they occur: a copy of a
    contribution under a name that sorts before every other (a resubmission) brings no new
    sentence, so every area's clusters come from the cache, and the groups are those a run
    without a cache finds."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from pipeline.report.cluster_cache import ClusterCache

    hashing = HashingVectorizer(n_features=512, alternate_sign=False)

    def encode(texts):
        return hashing.transform(texts).toarray()

    inp = make_input()
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    cache = ClusterCache(tmp_path, "hashing-512")
    first = group_options(cands, encode, 0.25, cache)
    # the contribution whose sentences come last, copied under a name that comes first
    source = max(specs["contributions"], key=lambda c: c["source_file"])
    copy = {**source, "source_file": "000-resubmitted.docx"}
    more = make_input(add=(copy,))
    more_cands = collect_candidates(more.paragraphs, QuoteBook(more.documents), finder, 30)
    assert {c.quote.text for c in more_cands} == {c.quote.text for c in cands}
    assert min(c.order for c in more_cands)[0] == "000-resubmitted.docx"
    again = group_options(more_cands, encode, 0.25, cache)
    assert again.areas_clustered == 0 and again.areas_from_cache == first.areas_clustered
    assert _signature(again) == _signature(group_options(more_cands, encode, 0.25))
    assert sum(g.support for g in again.groups) > sum(g.support for g in first.groups)


def test_a_cached_medoid_follows_the_copies_and_the_earliest_member(make_input, finder,
                                                                    tmp_path):
    """A group's medoid comes from the cache only for the same sentences with the same number
    of copies; on a tie between sentences it is the earliest member holding one of them."""
    from pipeline.report.cluster_cache import ClusterCache, summary_key
    from pipeline.report.grouping import best_texts

    def encode(texts):
        # two sentences at cosine 0.8, a third closer to the first than to the second
        table = {"alpha": [1.0, 0.0], "beta": [0.8, 0.6], "gamma": [0.96, -0.28]}
        return np.array([table[t.split()[0]] for t in texts])

    inp = make_input()
    found = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    base = list({c.quote.quote_id: c for c in found}.values())[:6]
    words = ["beta", "alpha", "beta", "alpha", "gamma", "beta"]
    cands = [replace(c, challenge="shared_critical_services",
                     quote=c.quote._replace(text=f"{w} proposal number {i} for everyone"))
             for i, (c, w) in enumerate(zip(base, words))]
    cache = ClusterCache(tmp_path, "toy")
    for n in (2, 3, 4, 6):     # beta+alpha tie at two members; more copies decide later
        members = cands[:n]
        direct = group_options(members, encode, 0.5)
        cached_first = group_options(members, encode, 0.5, cache)
        cached_again = group_options(members, encode, 0.5, cache)
        assert _signature(direct) == _signature(cached_first) == _signature(cached_again)
    two = sorted(cands[:2], key=lambda c: c.order)
    texts = sorted(m.quote.text for m in two)
    assert len(best_texts(two, texts, dict(zip(texts, encode(texts))))) == 2   # a tie
    # a stored summary that does not fit the group is ignored
    key = summary_key([(t, 1) for t in texts], "toy")
    cache.put_summaries([(key, [(5, 0.8)])])
    assert cache.get_summaries({key: 2}) == {}


def test_areas_clustered_in_two_processes_equal_one_process(monkeypatch, caplog):
    """Whichever process takes which area from the queue, the clusters are those of one
    process; an area a failed child took is clustered by the parent."""
    import os

    import pipeline.report.grouping as grouping

    rng = np.random.default_rng(3)
    todo = [(f"k{i}", rng.normal(size=(n, 8))) for i, n in enumerate((40, 25, 60, 5))]
    expected = {key: cluster_vectors(vectors, 0.3) for key, vectors in todo}

    def clusters(result):
        return {key: found for key, (found, _) in result.items()}

    clustering = grouping.Clustering(todo, 0.3)
    forked = clustering.result()
    assert clusters(forked) == expected and clustering._queue is None
    assert "failed" not in caplog.text   # the child's areas came back from it
    single = {key: cluster_with_log(vectors, 0.3)[1] for key, vectors in todo}
    assert all(np.array_equal(x, y) for key in single for x, y in zip(forked[key][1], single[key]))
    assert list(forked) != [] and all(isinstance(i, int) for cl in forked["k2"][0] for i in cl)
    # with each area, the merges that made its clusters (one per point joined)
    assert all(len(log.height) == len(vectors) - len(expected[key])
               for key, vectors in todo for log in (forked[key][1],))
    assert clusters(grouping.Clustering(todo[2:3], 0.3).result()) == {"k2": expected["k2"]}
    assert grouping.Clustering([], 0.3).result() == {}

    # a child that fails on the area it takes: the parent clusters what it did not return
    parent, real = os.getpid(), grouping.cluster_with_log

    def fails_in_the_child(vectors, threshold):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(vectors, threshold)

    monkeypatch.setattr(grouping, "cluster_with_log", fails_in_the_child)
    assert clusters(grouping.Clustering(todo, 0.3).result()) == expected
    monkeypatch.setattr(grouping, "cluster_with_log", real)
    monkeypatch.setattr(grouping, "fork_available", lambda: False)
    assert clusters(grouping.Clustering(todo, 0.3).result()) == expected


def _full_signature(grouping):
    """Everything the writers read of the groups, members by identity."""
    return ([(g.group_id, g.challenge, [id(m) for m in g.members], id(g.representative),
              g.cohesion, g.confidence, g.merged_from, g.support, g.contributors,
              g.attributions, g.stakeholder_groups, g.roles, g.paragraph_ids,
              g.confirmed_count, [id(m) for m in g.ordered_members], g.files)
             for g in grouping.groups],
            grouping.paragraph_group, {k: v for k, v in grouping.candidate_group.items()})


def test_an_area_with_an_unchanged_key_gets_its_groups_back(make_input, finder, tmp_path):
    """With provenance states, an area whose contributions, candidates and reviewers' labels
    are unchanged gets its groups (members, medoid, facts) back from the area record: the same
    groups as grouping it again, and only an area whose key changed is grouped again."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from pipeline.report.cluster_cache import ClusterCache
    from pipeline.report.grouping import area_key, area_record, restore_area

    hashing = HashingVectorizer(n_features=512, alternate_sign=False)

    def encode(texts):
        return hashing.transform(texts).toarray()

    inp = make_input()
    cands = collect_candidates(inp.paragraphs, QuoteBook(inp.documents), finder, 30)
    states = {name: f"state of {name}" for name in inp.documents}
    areas = len({c.challenge for c in cands})
    plain = group_options(cands, encode, 0.25, ClusterCache(tmp_path / "plain", "hashing"))
    first = group_options(cands, encode, 0.25, ClusterCache(tmp_path, "hashing"), states)
    again = group_options(cands, encode, 0.25, ClusterCache(tmp_path, "hashing"), states)
    assert (first.areas_clustered, again.areas_clustered) == (areas, 0)
    assert again.areas_from_cache == areas
    assert _full_signature(plain) == _full_signature(first) == _full_signature(again)

    # another state of one contribution: only its areas are grouped again
    source = cands[0].quote.source_file
    touched = {c.challenge for c in cands if c.quote.source_file == source}
    restated = group_options(cands, encode, 0.25, ClusterCache(tmp_path, "hashing"),
                             {**states, source: "another state"})
    assert restated.areas_from_cache == areas   # its clusters are cached, its groups made
    assert _full_signature(restated) == _full_signature(plain)
    by_area = {c: [x for x in cands if x.challenge == c] for c in touched}
    for c, area_cands in by_area.items():
        assert area_key(c, area_cands, 0.25, "hashing", states) != \
            area_key(c, area_cands, 0.25, "hashing", {**states, source: "another state"})
    # a contribution without a state: no key; another threshold or encoder: another key
    area, area_cands = next(iter(by_area.items()))
    key = area_key(area, area_cands, 0.25, "hashing", states)
    assert area_key(area, area_cands, 0.25, "hashing", {}) is None
    assert key != area_key(area, area_cands, 0.3, "hashing", states)
    assert key != area_key(area, area_cands, 0.25, "other", states)
    assert key != area_key(area, area_cands[1:], 0.25, "hashing", states)

    # a reviewer's label on a paragraph of the area changes its key
    cp = area_cands[0].cp
    cp.confirmed = ConfirmedLabel(paragraph_id=cp.para.paragraph_id, decision="accept",
                                  challenges=tuple(cp.challenges), stakeholders=("academia",),
                                  is_policy_option=True, reviewer="Ana",
                                  reviewed_at="2026-12-07T10:00:00+00:00")
    assert area_key(area, area_cands, 0.25, "hashing", states) != key
    labelled = group_options(cands, encode, 0.25, ClusterCache(tmp_path, "hashing"), states)
    assert _full_signature(labelled) == _full_signature(
        group_options(cands, encode, 0.25, ClusterCache(tmp_path / "plain", "hashing")))
    cp.confirmed = None

    # a record that does not fit the area's candidates is not used
    groups = [g for g in plain.groups if g.challenge == area]
    record = area_record(groups, area_cands)
    back = restore_area(record, area, area_cands)
    assert [(g.group_id, [id(m) for m in g.members], g.ordered_members, g.files)
            for g in back] == [(g.group_id, [id(m) for m in g.members], g.ordered_members,
                                g.files) for g in groups]
    assert restore_area(record, area, area_cands[:-1]) is None
    assert restore_area({**record, "groups": record["groups"][1:]}, area, area_cands) is None
    broken = [list(g) for g in record["groups"]]
    broken[0][1] = [-1] + broken[0][1][1:]
    assert restore_area({**record, "groups": broken}, area, area_cands) is None
    assert restore_area({"n": "x"}, area, area_cands) is None
    # stored under the area's key, such a record leaves the area to be grouped as usual
    cache = ClusterCache(tmp_path, "hashing")
    cache.put_areas([(area_key(area, area_cands, 0.25, "hashing", states),
                      {**record, "groups": broken})])
    unfit = group_options(cands, encode, 0.25, cache, states)
    assert (unfit.areas_clustered, unfit.areas_from_cache) == (0, areas)
    assert _full_signature(unfit) == _full_signature(plain)
    # also where its clusters are not cached either: it is clustered here
    empty = ClusterCache(tmp_path / "empty", "hashing")
    empty.put_areas([(area_key(area, area_cands, 0.25, "hashing", states),
                      {**record, "groups": broken})])
    clustered_here = group_options(cands, encode, 0.25, empty, states)
    assert (clustered_here.areas_clustered, clustered_here.areas_from_cache) == (areas, 0)
    assert _full_signature(clustered_here) == _full_signature(plain)
    # and it is stored again: the next run takes it back
    assert restore_area(cache.get_areas([area_key(area, area_cands, 0.25, "hashing", states)])
                        .popitem()[1], area, area_cands) is not None
