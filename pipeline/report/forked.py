"""Run part of the work in a forked child while the parent does the rest.

The output writers (xlsxwriter, python-docx, Jinja) are pure Python and scipy's linkage holds
the GIL, so threads would take turns on one core; a forked child shares the parent's objects
without copying or pickling them and uses the second core. At 3,000 contributions the review
sheet and the Word report take about as long as paragraphs.jsonl and the HTML report, so
writing them in the child halves the writing time of every run; when several areas must be
clustered again, the child clusters about half of them (report.grouping.cluster_areas).

The child sends back only a small JSON result. If it fails in any way (an exception, a crash,
the kernel killing it), the parent runs the same function itself, so an error is raised where
it always was, with its own type and traceback, and nothing is lost. Where fork is not
available, or not safe (macOS), the function runs in-process at once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from typing import Any, Callable

log = logging.getLogger(__name__)

JsonResult = dict[str, Any]


def fork_available() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkedCall:
    """`fn()` running in a child process; `result()` waits for it and returns its value."""

    def __init__(self, fn: Callable[[], JsonResult], name: str) -> None:
        self.fn = fn
        self.name = name
        self._value: JsonResult | None = None
        self._pid: int | None = None
        self._read_fd: int | None = None
        if fork_available():
            self._start()
        else:
            self._value = fn()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        gc.freeze()   # the parent's collector leaves the shared objects' pages alone meanwhile
        pid = os.fork()
        if pid == 0:   # the child: never returns into the caller's code
            code = 1
            try:
                os.close(read_fd)
                gc.disable()   # a collection would touch, and so copy, every shared page
                try:
                    payload = {"ok": True, "value": self.fn()}
                    code = 0
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    payload = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                with os.fdopen(write_fd, "w", encoding="utf-8") as fh:
                    json.dump(payload, fh)
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._read_fd = pid, read_fd

    def result(self) -> JsonResult:
        """The child's value; if the child failed, `fn()` run here (raising its own error)."""
        if self._pid is None:
            assert self._value is not None
            return self._value
        pid, read_fd = self._pid, self._read_fd
        assert read_fd is not None
        self._pid = self._read_fd = None
        try:
            with os.fdopen(read_fd, "r", encoding="utf-8") as fh:
                raw = fh.read()   # read before waiting: a full pipe would block the child
            _, status = os.waitpid(pid, 0)
        except BaseException:
            _kill(pid)
            raise
        finally:
            gc.unfreeze()
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        if os.waitstatus_to_exitcode(status) == 0 and payload.get("ok"):
            value = payload.get("value")
            if isinstance(value, dict):
                return value
        reason = payload.get("error") or _status_text(status)
        log.warning("%s in a separate process failed (%s); doing it here instead.",
                    self.name[:1].upper() + self.name[1:], reason)
        return self.fn()


    def cancel(self) -> None:
        """Stop the child (the caller failed and will not use the result)."""
        if self._pid is not None:
            _kill(self._pid)
            if self._read_fd is not None:
                os.close(self._read_fd)
            self._pid = self._read_fd = None
            gc.unfreeze()


def _kill(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _status_text(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"
