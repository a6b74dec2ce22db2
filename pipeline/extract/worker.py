"""The extraction worker process: `python -m pipeline.extract.worker SETTINGS_JSON MEMORY_MB`.

Started by pool.py. Limits its own address space first, then answers one JSON line per JSON line
read from stdin ({"path": ...} -> an outcome dict, see pool.py) until stdin closes. Its real
stdout is kept for the answers only: file descriptor 1 is pointed at stderr, so a library that
prints cannot garble the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

MB = 1024 * 1024
_NOT_CACHEABLE = {"timeout", "unsupported"}


def limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = int(memory_mb) * MB
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # no RLIMIT_AS here: the timeout still holds
        pass


def extract_outcome(path: Path, settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Extract one file and turn every way that can end into an outcome dict."""
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


def main(argv: list[str]) -> int:
    settings_dict = json.loads(argv[0])
    memory_mb = int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    limit_memory(memory_mb)
    for line in sys.stdin:
        if not line.strip():
            continue
        path = Path(json.loads(line)["path"])
        outcome = extract_outcome(path, settings_dict)
        try:
            text = json.dumps(outcome, ensure_ascii=True)
        except MemoryError:
            text = json.dumps({"status": "quarantine", "reason": "too_large", "cacheable": False,
                               "detail": "The extracted text is too large to hand back within "
                                         "the memory limit (extract.memory_mb)."})
        answers.write(text + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
