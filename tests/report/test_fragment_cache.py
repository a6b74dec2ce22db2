"""report.html's groups and contributions are rendered once and reused while their view holds."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipeline.report.build import build_report
from pipeline.report.fragment_cache import FragmentCache, view_key
from pipeline.report.html import build_view, contribution_anchor, group_identity, write_html

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
META = {"version": "test", "generated_at": "2026-12-03 12:00", "input_dir": None, "model": None}


def _views(tmp_path: Path, make_input, finder, encode, settings_for, **kw):
    inp = make_input(input_dir=tmp_path / "in", **kw)
    out = tmp_path / "out"
    result = build_report(inp, encode, settings_for(), out, find_sentences=finder, now=NOW)
    return lambda: build_view(inp, result.grouping, result.quotes, out, "Report", META)


def test_a_second_page_is_the_same_html_from_the_cache(tmp_path, make_input, finder,
                                                        encode_tfidf, settings_for):
    view = _views(tmp_path, make_input, finder, encode_tfidf, settings_for)
    plain = write_html(tmp_path / "plain.html", view()).read_text(encoding="utf-8")
    cache = FragmentCache(tmp_path / "cache")
    first = write_html(tmp_path / "first.html", view(), cache).read_text(encoding="utf-8")
    rendered = cache.misses
    assert rendered > 5 and cache.hits == 0
    second = write_html(tmp_path / "second.html", view(), cache).read_text(encoding="utf-8")
    assert cache.misses == rendered and cache.hits == rendered
    assert first == plain and second == plain
    cache.close()


def test_only_a_changed_group_is_rendered_again(tmp_path, make_input, finder, encode_tfidf,
                                                settings_for):
    view = _views(tmp_path, make_input, finder, encode_tfidf, settings_for)
    cache = FragmentCache(tmp_path / "cache")
    write_html(tmp_path / "first.html", view(), cache)
    rendered = cache.misses
    changed = view()
    group = next(g for a in changed["areas"] for g in a["groups"])
    group["identity"]["confidence"] = 0.0123
    page = write_html(tmp_path / "second.html", changed, cache).read_text(encoding="utf-8")
    assert cache.misses == rendered + 1
    assert "<b>Confidence:</b> 0.01</span>" in page
    cache.close()


def test_keys_follow_every_value_of_the_view() -> None:
    base = {"id": "g-1", "quotes": [("q-1", "text", None)], "confidence": 0.5}
    assert view_key("group", base) == view_key("group", dict(base))
    assert view_key("group", base) != view_key("contribution", base)
    assert view_key("group", base) != view_key("group", {**base, "quotes": [("q-1", "Text", None)]})
    assert view_key("group", base) != view_key("group", {**base, "confidence": 0.51})


def test_contribution_anchors_do_not_depend_on_the_other_contributions(
        tmp_path, make_input, finder, encode_tfidf, settings_for):
    full = _views(tmp_path / "a", make_input, finder, encode_tfidf, settings_for)()
    anchors = {c["source_file"]: c["anchor"] for c in full["contributions"]}
    assert all(a == contribution_anchor(f) for f, a in anchors.items())
    assert len(set(anchors.values())) == len(anchors)
    dropped = sorted(anchors)[0]
    fewer = _views(tmp_path / "b", make_input, finder, encode_tfidf, settings_for,
                   drop=(dropped,))()
    assert {c["source_file"]: c["anchor"] for c in fewer["contributions"]} == {
        f: a for f, a in anchors.items() if f != dropped}


def test_a_group_key_follows_where_its_quotes_come_from(tmp_path, make_input, finder,
                                                        encode_tfidf, settings_for):
    """The key is the hash of the identity, so everything a quote shows must be in it: here
    the page and the organisation of one quoted paragraph."""
    from dataclasses import replace

    inp = make_input(input_dir=tmp_path / "in")
    out = tmp_path / "out"
    result = build_report(inp, encode_tfidf, settings_for(), out, find_sentences=finder, now=NOW)
    group = result.grouping.groups[0]
    before = view_key("group", group_identity(group))
    member = group.members[0]
    member.cp.para = replace(member.cp.para, organisation="Another organisation")
    assert view_key("group", group_identity(group)) != before
    quote = member.quote = member.quote._replace(page=(member.quote.page or 0) + 7)
    changed = group_identity(group)
    assert any(q[4] == (quote.page) for q in changed["quotes"])
    assert view_key("group", changed) != before


def test_stored_fragments_are_read_ahead_in_page_order(tmp_path, make_input, finder,
                                                       encode_tfidf, settings_for):
    view = _views(tmp_path, make_input, finder, encode_tfidf, settings_for)
    cache = FragmentCache(tmp_path / "cache")
    first = write_html(tmp_path / "first.html", view(), cache).read_text(encoding="utf-8")
    cache.close()
    cache = FragmentCache(tmp_path / "cache")
    cache._AHEAD = 4
    reads: list[int] = []
    get_many = cache._store.get_many
    cache._store.get_many = lambda keys: (reads.append(len(keys)), get_many(keys))[1]
    second = write_html(tmp_path / "second.html", view(), cache).read_text(encoding="utf-8")
    assert second == first and cache.misses == 0
    assert cache.hits == sum(reads) and max(reads) == 4
    assert len(reads) == -(-cache.hits // 4)       # one read per four fragments
    cache.close()


def test_groups_with_provenance_states_are_keyed_by_them(tmp_path, make_input, finder,
                                                         encode_tfidf, settings_for):
    """With a provenance state for every contribution, a group's fragment is keyed by what its
    identity follows from: the same page, and a group's key changes with each of those."""
    from dataclasses import replace

    from pipeline.report.html import group_state
    from pipeline.review.confirmed import ConfirmedLabel

    inp = make_input(input_dir=tmp_path / "in")
    out = tmp_path / "out"
    result = build_report(inp, encode_tfidf, settings_for(), out, find_sentences=finder, now=NOW)
    plain = write_html(tmp_path / "plain.html",
                       build_view(inp, result.grouping, result.quotes, out, "Report", META))
    states = {name: f"state of {name}" for name in inp.documents}
    stated = replace(inp, file_states=states)

    def page(name: str, cache: FragmentCache) -> str:
        view = build_view(stated, result.grouping, result.quotes, out, "Report", META)
        assert all(g["state"] and g["identity"] is None for a in view["areas"]
                   for g in a["groups"])
        return write_html(tmp_path / name, view, cache).read_text(encoding="utf-8")

    cache = FragmentCache(tmp_path / "cache")
    assert page("first.html", cache) == plain.read_text(encoding="utf-8")
    rendered = cache.misses
    assert page("second.html", cache) == plain.read_text(encoding="utf-8")
    assert cache.misses == rendered and cache.hits == rendered
    cache.close()

    group = max(result.grouping.groups, key=lambda g: len(g.members))
    before = group_state(group, states)
    assert group_state(group, {k: v for k, v in states.items()
                               if k != group.files[0]}) is None
    assert group_state(group, {**states, group.files[-1]: "another state"}) != before
    assert group_state(replace(group, confidence=group.confidence + 0.01), states) != before
    assert group_state(replace(group, members=group.members[::-1]), states) != before
    assert group_state(replace(group, merged_from=["g-0"]), states) != before
    # a reviewer's label on one of its paragraphs
    cp = group.members[-1].cp
    cp.confirmed = ConfirmedLabel(cp.para.paragraph_id, "accept", (group.challenge,), None,
                                  True, "A. Reviewer", "2026-12-01T10:00:00")
    relabelled = replace(group)
    assert relabelled.confirmed_count == 1 and group_state(relabelled, states) != before
