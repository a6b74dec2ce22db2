"""Worker processes with a wall-clock limit and a memory cap per file.

Each worker is a separate Python process (`python -m pipeline.extract.worker`) that limits its
own address space (RLIMIT_AS) and extracts one file at a time: the parent writes one JSON line
(a path) to its stdin and reads one JSON line (the outcome) from its stdout. A worker whose file
runs past the time limit is killed; a killed or crashed worker is replaced and the batch goes
on. Plain subprocesses rather than multiprocessing: nothing is pickled, and it works the same
from a console script, a notebook or `python -` (spawn re-imports the caller's __main__).

Outcomes are plain dicts (they also go into the JSON cache):
  {"status": "ok", "doc": RawDocument.to_dict()}
  {"status": "quarantine", "reason": ..., "detail": ..., "cacheable": bool}
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pipeline

_PACKAGE_PARENT = str(Path(pipeline.__file__).resolve().parent.parent)


def timeout_outcome(timeout_s: float) -> dict[str, Any]:
    return {"status": "quarantine", "reason": "timeout", "cacheable": False,
            "detail": f"Reading the file took longer than {timeout_s:g} s (extract.timeout_s) and "
                      "was stopped. It may be very large or malformed; ask for a smaller or "
                      "re-saved version, or raise the limit."}


def died_outcome(returncode: int | None, memory_mb: int) -> dict[str, Any]:
    if returncode is not None and returncode < 0 and -returncode in (
            signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
        return {"status": "quarantine", "reason": "too_large", "cacheable": False,
                "detail": f"The reader crashed on this file (signal {-returncode}), most likely by "
                          f"running out of the {memory_mb} MB of memory allowed per file "
                          "(extract.memory_mb). Ask for a smaller or re-saved version."}
    return {"status": "quarantine", "reason": "corrupt", "cacheable": False,
            "detail": f"The reader process stopped unexpectedly on this file (exit status "
                      f"{returncode}). The file may be damaged; ask the contributor to save it "
                      "again."}


class _Worker:
    def __init__(self, settings_json: str, memory_mb: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.extract.worker", settings_json, str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None if os.environ.get("CENB_DEBUG") else subprocess.DEVNULL,
            env=env, text=True, encoding="utf-8", bufsize=1,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, path: Path, timeout_s: float, memory_mb: int) -> tuple[dict[str, Any], bool]:
        """Send one path, wait for its outcome; (outcome, worker_still_usable)."""
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            self.proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        try:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps({"path": str(path)}) + "\n")
            self.proc.stdin.flush()
            timer.start()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        finally:
            timer.cancel()
        if line and not timed_out.is_set():
            try:
                return json.loads(line), True
            except ValueError:
                pass
        self.close(force=True)
        if timed_out.is_set():
            return timeout_outcome(timeout_s), False
        return died_outcome(self.proc.returncode, memory_mb), False

    def close(self, force: bool = False) -> None:
        if force and self.alive():
            self.proc.kill()
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def run_pool(
    paths: Sequence[Path],
    settings_dict: dict[str, Any],
    workers: int,
    timeout_s: float,
    memory_mb: int,
    on_done: Callable[[int, dict[str, Any]], None],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Extract every path in worker processes; on_done(index, outcome) is called in the calling
    thread as each file finishes, in completion order. meanwhile(), if given, runs in the
    calling thread once the workers have started (the workers are stopped if it fails)."""
    if not paths:
        if meanwhile is not None:
            meanwhile()
        return
    settings_json = json.dumps(settings_dict, default=str)
    tasks: queue.Queue[int] = queue.Queue()
    for i in range(len(paths)):
        tasks.put(i)
    results: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue()
    stop = threading.Event()

    def loop() -> None:
        worker: _Worker | None = None
        try:
            while not stop.is_set():
                try:
                    index = tasks.get_nowait()
                except queue.Empty:
                    break
                if worker is None or not worker.alive():
                    worker = _Worker(settings_json, memory_mb)
                outcome, usable = worker.ask(paths[index], timeout_s, memory_mb)
                if not usable:
                    worker = None
                results.put((index, outcome))
        finally:
            if worker is not None:
                worker.close(force=stop.is_set())
            results.put(None)

    n = max(1, min(workers, len(paths)))
    threads = [threading.Thread(target=loop, name=f"cenb-extract-{i}", daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    finished = 0
    try:
        if meanwhile is not None:
            meanwhile()
        while finished < n:
            item = results.get()
            if item is None:
                finished += 1
                continue
            on_done(*item)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
