"""The forked writer: its value comes back, and any failure falls back to the parent."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from pipeline.errors import ReviewError
from pipeline import forked
from pipeline.forked import ForkedCall

needs_fork = pytest.mark.skipif(not forked.fork_available(), reason="fork is Linux-only here")


@needs_fork
def test_value_comes_back_from_a_child_process(tmp_path):
    parent = os.getpid()

    def write() -> dict:
        (tmp_path / "out.txt").write_text("written", encoding="utf-8")
        return {"pid": os.getpid(), "seconds": 0.5, "names": ["é", "x"]}

    value = ForkedCall(write, "out.txt").result()
    assert value["pid"] != parent
    assert value["seconds"] == 0.5 and value["names"] == ["é", "x"]
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "written"


@needs_fork
def test_an_error_in_the_child_is_raised_again_by_the_parent(caplog):
    parent = os.getpid()
    calls = []

    def write() -> dict:
        calls.append(os.getpid())
        raise ReviewError("cannot write review.xlsx: disk full")

    call = ForkedCall(write, "review.xlsx")
    with caplog.at_level(logging.WARNING), pytest.raises(ReviewError, match="disk full"):
        call.result()
    assert calls == [parent]   # the child's own call happened in the child
    assert "ReviewError: cannot write review.xlsx: disk full" in caplog.text


@needs_fork
def test_a_killed_child_is_replaced_by_writing_in_the_parent(caplog):
    parent = os.getpid()

    def write() -> dict:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return {"pid": os.getpid()}

    with caplog.at_level(logging.WARNING):
        value = ForkedCall(write, "report.docx").result()
    assert value == {"pid": parent}
    assert "killed by signal 9" in caplog.text


@needs_fork
def test_cancel_stops_the_child(tmp_path):
    marker = tmp_path / "late.txt"

    def write() -> dict:
        time.sleep(1)
        marker.write_text("too late", encoding="utf-8")
        return {}

    call = ForkedCall(write, "late.txt")
    call.cancel()
    time.sleep(1.5)
    assert not marker.exists()


def test_without_fork_the_writer_runs_at_once(monkeypatch):
    monkeypatch.setattr(forked, "fork_available", lambda: False)
    ran = []
    call = ForkedCall(lambda: ran.append(os.getpid()) or {"n": len(ran)}, "x")
    assert ran == [os.getpid()]
    assert call.result() == {"n": 1}


@needs_fork
def test_a_child_prepares_then_receives_its_input_later():
    parent = os.getpid()

    def write(receive) -> dict:
        prepared = {"pid": os.getpid()}        # done before the input exists
        return {**prepared, "groups": receive()}

    call = ForkedCall(write, "paragraphs.jsonl", takes_input=True)
    # a second child forked meanwhile holds a copy of the first one's inbox: the message still
    # arrives whole (it carries its length)
    other = ForkedCall(lambda: {"n": 1}, "other")
    groups = {f"p-{i:05d}": f"g-{i % 7}" for i in range(20_000)}   # more than a pipe holds
    call.send(groups)
    value = call.result()
    assert value["pid"] != parent and value["groups"] == groups
    assert other.result() == {"n": 1}


@needs_fork
def test_a_child_that_dies_before_its_input_is_replaced_by_the_parent(caplog):
    parent = os.getpid()

    def write(receive) -> dict:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return {"pid": os.getpid(), "input": receive()}

    call = ForkedCall(write, "paragraphs.jsonl", takes_input=True)
    time.sleep(0.2)
    with caplog.at_level(logging.WARNING):
        call.send({"p-1": "g-1"})   # nobody reads: no error here
        value = call.result()
    assert value == {"pid": parent, "input": {"p-1": "g-1"}}
    assert "killed by signal 9" in caplog.text


def test_without_fork_a_child_with_input_runs_when_its_result_is_asked(monkeypatch):
    monkeypatch.setattr(forked, "fork_available", lambda: False)
    ran = []

    def write(receive) -> dict:
        ran.append(os.getpid())
        return {"input": receive()}

    call = ForkedCall(write, "x", takes_input=True)
    assert ran == []
    with pytest.raises(RuntimeError, match="before send"):
        call.result()
    call.send([1, 2])
    assert call.result() == {"input": [1, 2]} and ran == [os.getpid()]


@needs_fork
def test_cancel_before_send_stops_a_waiting_child():
    call = ForkedCall(lambda receive: {"got": receive()}, "x", takes_input=True)
    pid = call._pid
    call.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)
