"""Worker processes with a wall-clock limit and a memory cap per file.

Each worker is a spawned process that limits its own address space (RLIMIT_AS) and extracts one
file at a time. The parent hands out files, waits for answers, and kills a worker whose file runs
past the time limit; a killed or crashed worker is replaced and the batch goes on. Only the
standard library is used: concurrent.futures cannot kill a running task.

Outcomes are plain dicts (they cross a pipe and go into the JSON cache):
  {"status": "ok", "doc": RawDocument.to_dict()}
  {"status": "quarantine", "reason": ..., "detail": ..., "cacheable": bool}
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

MB = 1024 * 1024
_NOT_CACHEABLE = {"timeout", "unsupported"}


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = int(memory_mb) * MB
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass


def extract_outcome(path: Path, settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Run the extraction of one file and turn every way it can end into an outcome dict."""
    from pipeline.config import ExtractSettings
    from pipeline.errors import ExtractionError
    from pipeline.extract.dispatch import extract_file

    settings = ExtractSettings(**settings_dict)
    try:
        raw = extract_file(path, settings)
        return {"status": "ok", "doc": raw.to_dict()}
    except ExtractionError as exc:
        return {"status": "quarantine", "reason": exc.reason, "detail": exc.detail,
                "cacheable": exc.reason not in _NOT_CACHEABLE}
    except MemoryError:
        return {"status": "quarantine", "reason": "too_large", "cacheable": False,
                "detail": f"Reading the file needed more than the {settings.memory_mb} MB of "
                          "memory allowed per file (extract.memory_mb). Ask for a smaller "
                          "version, or raise the limit."}
    except RecursionError:
        return {"status": "quarantine", "reason": "corrupt", "cacheable": True,
                "detail": "The file's structure is nested too deeply to read (a damaged or "
                          "hostile file). Ask the contributor to save it again."}
    except Exception as exc:  # a reader bug or an unforeseen malformation: the batch goes on
        return {"status": "quarantine", "reason": "corrupt", "cacheable": False,
                "detail": f"The file could not be read ({type(exc).__name__}: {exc}). It may be "
                          "damaged; ask the contributor to save it again, or report this error."}


def _worker_main(conn: Connection, settings_dict: dict[str, Any], memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_mb)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        task_id, path = task
        outcome = extract_outcome(Path(path), settings_dict)
        try:
            conn.send((task_id, outcome))
        except MemoryError:
            conn.send((task_id, {"status": "quarantine", "reason": "too_large",
                                 "cacheable": False,
                                 "detail": "The extracted text is too large to hand back within "
                                           "the memory limit (extract.memory_mb)."}))


class _Worker:
    def __init__(self, ctx, settings_dict: dict[str, Any], memory_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, settings_dict, memory_mb),
                                daemon=True, name="cenb-extract")
        self.proc.start()
        child.close()
        self.task: tuple[int, str] | None = None
        self.started = 0.0

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


def _died_outcome(exitcode: int | None, memory_mb: int) -> dict[str, Any]:
    if exitcode in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
        return {"status": "quarantine", "reason": "too_large", "cacheable": False,
                "detail": f"The reader crashed on this file (signal {-exitcode}), most likely by "
                          f"running out of the {memory_mb} MB of memory allowed per file "
                          "(extract.memory_mb). Ask for a smaller or re-saved version."}
    return {"status": "quarantine", "reason": "corrupt", "cacheable": False,
            "detail": f"The reader process stopped unexpectedly on this file (exit code "
                      f"{exitcode}). The file may be damaged; ask the contributor to save it again."}


def run_pool(
    paths: Sequence[Path],
    settings_dict: dict[str, Any],
    workers: int,
    timeout_s: float,
    memory_mb: int,
    on_done: Callable[[int, dict[str, Any]], None],
) -> None:
    """Extract every path in worker processes; call on_done(index, outcome) as each finishes."""
    if not paths:
        return
    ctx = mp.get_context("spawn")
    n = max(1, min(workers, len(paths)))
    pool = [_Worker(ctx, settings_dict, memory_mb) for _ in range(n)]
    queue: deque[int] = deque(range(len(paths)))
    try:
        while queue or any(w.task is not None for w in pool):
            for i, w in enumerate(pool):
                if w.task is None and queue:
                    if not w.proc.is_alive():
                        w.kill()
                        w = pool[i] = _Worker(ctx, settings_dict, memory_mb)
                    index = queue.popleft()
                    w.task = (index, str(paths[index]))
                    w.started = time.monotonic()
                    try:
                        w.conn.send(w.task)
                    except (OSError, ValueError):  # died between tasks: retry on a fresh one
                        queue.appendleft(index)
                        w.task = None
                        w.kill()
                        pool[i] = _Worker(ctx, settings_dict, memory_mb)
            busy = [w for w in pool if w.task is not None]
            if not busy:
                continue
            now = time.monotonic()
            wait_for = max(0.01, min(w.started + timeout_s - now for w in busy))
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_for)
            for i, w in enumerate(pool):
                if w.task is None:
                    continue
                index = w.task[0]
                if w.conn in ready or w.proc.sentinel in ready:
                    try:
                        if w.conn.poll():
                            task_id, outcome = w.conn.recv()
                            w.task = None
                            on_done(task_id, outcome)
                            continue
                    except (EOFError, OSError):
                        pass
                    if not w.proc.is_alive():
                        w.proc.join(1)
                        outcome = _died_outcome(w.proc.exitcode, memory_mb)
                        w.task = None
                        w.kill()
                        pool[i] = _Worker(ctx, settings_dict, memory_mb)
                        on_done(index, outcome)
                        continue
                if w.task is not None and time.monotonic() - w.started > timeout_s:
                    w.kill()
                    pool[i] = _Worker(ctx, settings_dict, memory_mb)
                    on_done(index, {
                        "status": "quarantine", "reason": "timeout", "cacheable": False,
                        "detail": f"Reading the file took longer than {timeout_s:g} s "
                                  "(extract.timeout_s) and was stopped. It may be very large or "
                                  "malformed; ask for a smaller or re-saved version, or raise "
                                  "the limit."})
    finally:
        for w in pool:
            w.stop()
