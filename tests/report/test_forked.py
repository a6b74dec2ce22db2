"""The forked writer: its value comes back, and any failure falls back to the parent."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from pipeline.errors import ReviewError
from pipeline.report import forked
from pipeline.report.forked import ForkedCall

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
