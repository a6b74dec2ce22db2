"""Collection is paused inside a run and comes back as it was, also after an error."""

from __future__ import annotations

import gc

import pytest

from pipeline.collector import collection_paused


@pytest.fixture
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_enabled_again_after(collector_enabled):
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_again_after_an_error(collector_enabled):
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("a file could not be read")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(collector_enabled):
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_as_a_decorator_each_call_pauses(collector_enabled):
    seen = []

    @collection_paused()
    def run() -> None:
        seen.append(gc.isenabled())

    run()
    run()
    assert seen == [False, False] and gc.isenabled()


def test_cycles_left_during_the_pause_are_freed_by_the_next_collection(collector_enabled):
    class Node:
        pass

    with collection_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
    assert gc.collect() >= 2
