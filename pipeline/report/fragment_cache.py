"""Rendered pieces of report.html, kept by the hash of the view they were rendered from.

At 3,000 contributions the page is 1,100 option groups with 178,000 quotes and 3,000
contribution blocks with 54,000 cited paragraphs; rendering them took about 4 s of every run,
although adding one file changes only the groups it joins and its own block. Each group's and
each contribution's HTML is therefore stored under sha256 of its whole view (every value the
macro can show, so a hit is the same HTML by construction); the file name carries a fingerprint
of the fragment template, this module and the Jinja and MarkupSafe versions, so a change to
either starts a fresh file instead of serving stale HTML. Values are text, never pickles.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import orjson

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import hash_code

_SOURCES = ("report/templates/fragments.html.j2", "report/fragment_cache.py")
_DISTS = ("jinja2", "markupsafe")


@lru_cache(maxsize=1)
def fragments_fingerprint() -> str:
    h = hashlib.sha256()
    hash_code(h, _SOURCES, _DISTS)
    return h.hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):   # the named tuples of the view (QuoteView, CitedView)
        return list(value)
    raise TypeError(f"{type(value).__name__} is not part of a report view")


def view_key(kind: str, view: Mapping[str, Any]) -> str:
    """sha256 of the fragment kind and every value of its view, in the view's order."""
    h = hashlib.sha256(kind.encode("utf-8") + b"\x1f")
    h.update(orjson.dumps(view, default=_plain))
    return h.hexdigest()


class FragmentCache:
    """view_key -> rendered HTML in one SQLite file per fragments_fingerprint()."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / f"fragments-{fragments_fingerprint()}.sqlite"
        self._store = HashStore(self.path, "fragments", "html", "TEXT")
        self.hits = self.misses = 0

    def render(self, kind: str, views: Sequence[Mapping[str, Any]],
               render: Callable[[Mapping[str, Any]], str]) -> list[str]:
        """Each view's HTML: stored when the same view was rendered before, else render(view)
        (and stored)."""
        keys = [view_key(kind, v) for v in views]
        found: dict[str, str] = self._store.get_many(keys)
        new: dict[str, str] = {}
        out: list[str] = []
        for key, view in zip(keys, views):
            html = found.get(key)
            if html is None:
                html = new.get(key)
            if html is None:
                html = new[key] = str(render(view))
                self.misses += 1
            else:
                self.hits += 1
            out.append(html)
        self._store.put_many(new.items())
        return out

    def close(self) -> None:
        self._store.close()
