"""Leaving a finished `cenb` process without freeing its objects one by one.

Why: at 3,000 contributions a run holds millions of objects (paragraphs, predictions, quotes,
candidates). When `run_pipeline` returned, reference counting freed them one at a time: about
0.7 s of a 12-15 s one-file re-run, for memory the operating system takes back at exit at once.

The console script (`main` in cli.py) switches keeping on. `run_pipeline` and
`report_from_stages` hand their large structures to `keep_until_exit`; the command prints its
summary and calls `exit_if_keeping`, which flushes the output and ends the process with
os._exit. A notebook or a test that calls those functions never switches keeping on: nothing is
kept, and `exit_if_keeping` returns.
"""

from __future__ import annotations

import logging
import os
import sys

_kept: list[object] = []
_keeping = False


def keep_objects_until_exit() -> None:
    """Only for a process that ends when its command does (the console script)."""
    global _keeping
    _keeping = True


def keep_until_exit(*objects: object) -> None:
    """Hold these past the caller's return, when keeping is on; otherwise do nothing."""
    if _keeping:
        _kept.extend(objects)


def exit_if_keeping(code: int = 0) -> None:
    """When keeping is on: flush stdout, stderr and the log handlers, then end the process
    without finalising objects or running atexit handlers (every file and child process of a
    command is closed or reaped before it returns). Otherwise return."""
    if not _keeping:
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe: nothing more can be written to it
            pass
    os._exit(code)
