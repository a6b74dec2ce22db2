"""Run part of the work in a forked child while the parent does the rest.

The output writers (xlsxwriter, python-docx, Jinja) are pure Python and scipy's linkage holds
the GIL, so threads would take turns on one core; a forked child shares the parent's objects
without copying or pickling them and uses the second core. At 3,000 contributions the review
sheet and the Word report together take about as long as the HTML report, so writing them in a
child halves the writing time of every run; when areas must be clustered again, a child
clusters them (about half of them when there are several) while the parent makes the cached
areas' groups (report.grouping.Clustering).

A child can also be started before all of its input exists (`takes_input`): it does what it
can at once and waits for the rest, which the parent `send`s when it has it. paragraphs.jsonl
is prepared that way while the options are grouped, and completed with each paragraph's group.

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
import struct
import sys
from typing import Any, Callable

import orjson

log = logging.getLogger(__name__)

JsonResult = dict[str, Any]
Receive = Callable[[], Any]   # what a child started with takes_input calls to get its input
_LENGTH = struct.Struct("<Q")


def fork_available() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkedCall:
    """`fn()` running in a child process; `result()` waits for it and returns its value.

    With takes_input, fn is called as fn(receive): receive() waits for the value the parent
    passes to send() (plain JSON data) and returns it."""

    def __init__(self, fn: Callable[..., JsonResult], name: str, *,
                 takes_input: bool = False) -> None:
        self.fn = fn
        self.name = name
        self._takes_input = takes_input
        self._input: Any = None
        self._sent = False
        self._value: JsonResult | None = None
        self._pid: int | None = None
        self._read_fd: int | None = None
        self._inbox_fd: int | None = None
        if fork_available():
            self._start()
        elif not takes_input:
            self._value = fn()

    def _call(self, receive: Receive) -> JsonResult:
        return self.fn(receive) if self._takes_input else self.fn()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        inbox_read, inbox_write = os.pipe() if self._takes_input else (-1, -1)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        gc.freeze()   # the parent's collector leaves the shared objects' pages alone meanwhile
        pid = os.fork()
        if pid == 0:   # the child: never returns into the caller's code
            code = 1
            try:
                os.close(read_fd)
                if self._takes_input:
                    os.close(inbox_write)
                gc.disable()   # a collection would touch, and so copy, every shared page
                try:
                    payload = {"ok": True, "value": self._call(lambda: _receive(inbox_read))}
                    code = 0
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    payload = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                with os.fdopen(write_fd, "w", encoding="utf-8") as fh:
                    json.dump(payload, fh)
            finally:
                os._exit(code)
        os.close(write_fd)
        if self._takes_input:
            os.close(inbox_read)
            self._inbox_fd = inbox_write
        self._pid, self._read_fd = pid, read_fd

    def send(self, value: Any) -> None:
        """Give the child its input (once). The message carries its length, so a child forked
        meanwhile, which holds a copy of this pipe, does not keep the receiver waiting."""
        self._input, self._sent = value, True
        fd, self._inbox_fd = self._inbox_fd, None
        if fd is None:
            return
        data = orjson.dumps(value)
        try:
            # blocks until the child reads, i.e. at most until it has done what it does first
            # (work the parent would otherwise have done itself)
            with os.fdopen(fd, "wb") as fh:
                fh.write(_LENGTH.pack(len(data)))
                fh.write(data)
        except OSError:   # the child is gone: result() does the work here
            pass

    def result(self) -> JsonResult:
        """The child's value; if the child failed, `fn()` run here (raising its own error)."""
        if self._takes_input and not self._sent:
            raise RuntimeError(f"{self.name}: result() called before send()")
        if self._pid is None:
            if self._value is None:   # no fork here: the work is done now, in this process
                self._value = self._call(lambda: self._input)
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
        return self._call(lambda: self._input)

    def cancel(self) -> None:
        """Stop the child (the caller failed and will not use the result)."""
        if self._pid is not None:
            _kill(self._pid)
            for fd in (self._read_fd, self._inbox_fd):
                if fd is not None:
                    os.close(fd)
            self._pid = self._read_fd = self._inbox_fd = None
            gc.unfreeze()


def _receive(fd: int) -> Any:
    """The value the parent sends through the child's inbox."""
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise EOFError("the parent closed the pipe without sending the input")
        (size,) = _LENGTH.unpack(head)
        return orjson.loads(fh.read(size))


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
