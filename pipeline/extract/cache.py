"""Per-file extraction cache: JSON files keyed by the file's sha256, the extractor version (the
declared EXTRACTOR_VERSION plus a hash of the extract package's own source, so an edited reader
never serves stale results) and the settings that change extraction output. Never pickle: a
cache entry is data, not code.

Only verdicts that depend on the file alone are cached (text, encrypted, corrupt, empty,
no_text_layer, too_large from a size check); a timeout, a memory failure or `unsupported`
(which may change when a tool is installed) is always tried again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from pipeline.config import ExtractSettings
from pipeline.extract.dispatch import EXTRACTOR_VERSION

_RELEVANT_SETTINGS = ("max_file_mb", "max_uncompressed_mb", "max_compression_ratio", "max_pages",
                      "max_paragraph_chars", "min_paragraph_chars")


# Modules whose code does not shape a cached outcome: editing them keeps the cache.
_NOT_IN_FINGERPRINT = {"__init__.py", "cache.py", "contributor.py", "pool.py", "store.py"}


@lru_cache(maxsize=1)
def extractor_fingerprint() -> str:
    """EXTRACTOR_VERSION and a digest of the source files that shape a cached outcome."""
    digest = hashlib.sha256(EXTRACTOR_VERSION.encode("utf-8"))
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        if source.name in _NOT_IN_FINGERPRINT:
            continue
        digest.update(source.name.encode("utf-8"))
        digest.update(source.read_bytes())
    return f"{EXTRACTOR_VERSION}+{digest.hexdigest()[:12]}"


def cache_key(file_sha: str, settings: ExtractSettings) -> str:
    relevant = {name: getattr(settings, name) for name in _RELEVANT_SETTINGS}
    payload = json.dumps({"sha256": file_sha, "version": extractor_fingerprint(),
                          "settings": relevant}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ExtractCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        """An entry is stored under key (get() may still find it torn or foreign)."""
        return self._path(key).is_file()

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            path.unlink(missing_ok=True)  # unreadable: extract again
            return None
        try:
            data = orjson.loads(raw)      # 3,000 entries per re-run: orjson, not json
        except orjson.JSONDecodeError:
            try:                          # what orjson refuses and json wrote (NaN)
                data = json.loads(raw)
            except ValueError:
                path.unlink(missing_ok=True)  # a torn or foreign file: extract again
                return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def put(self, key: str, outcome: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = dict(outcome, key=key)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
