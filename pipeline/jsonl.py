"""Reading JSONL files the way every stage reports them: file and line in each error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from pipeline.errors import CenbError


def read_jsonl_objects(path: Path, error: type[CenbError],
                       label: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line; a bad line raises `error` naming
    `label` (default: the path) and the line, so the caller's batch boundary can report it."""
    name = label or str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{name}: not UTF-8 text ({exc}).") from exc
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{name}:{n}: malformed JSON ({exc.msg} at column {exc.colno}).") \
                from exc
        if not isinstance(obj, dict):
            raise error(f"{name}:{n}: each line must be a JSON object.")
        yield n, obj
