"""Rendered pieces of report.html, kept by the hash of the identity they were rendered from.

At 3,000 contributions the page is 1,100 option groups with 178,000 quotes and 3,000
contribution blocks with 54,000 cited paragraphs; rendering them took about 4 s of every run,
although adding one file changes only the groups it joins and its own block. Each group's and
each contribution's HTML is therefore stored under sha256 of its identity: the plain data its
view is built from, and nothing else (html.group_view, html.contribution_view), so a hit is the
same HTML by construction. Where every contribution a group quotes has a provenance state,
the group's key is that of what its identity follows from instead (html.group_state: the
states, which fingerprint the whole package, its members and its own numbers): building the
identities of 178,000 quotes only to hash them took 0.4 s of every run. The file name carries
a fingerprint of the fragment template, the code that turns an identity into HTML and the
Jinja and MarkupSafe versions, so a change to either starts a fresh file instead of serving
stale HTML. Values are text, never pickles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Mapping

import orjson

from pipeline.classify.hash_store import HashStore
from pipeline.fingerprint import code_fingerprint

_SOURCES = ("report/templates/fragments.html.j2", "report/fragment_cache.py", "report/html.py",
            "report/quotes.py")
_DISTS = ("jinja2", "markupsafe")


def view_key(kind: str, identity: Mapping[str, Any]) -> str:
    """sha256 of the fragment kind and every value of its identity, in order (plain data
    only: orjson refuses anything else)."""
    h = hashlib.sha256(kind.encode("utf-8") + b"\x1f")
    h.update(orjson.dumps(identity))
    return h.hexdigest()


class FragmentCache:
    """view_key -> rendered HTML (UTF-8 bytes) in one SQLite file per version of the macros and
    this code. Stored fragments are read and written as the bytes of the page: at 3,000
    contributions decoding 95 MB of them into text and encoding the page back took a third of
    its writing."""

    _FLUSH = 500   # rendered fragments stored at a time
    _AHEAD = 128   # stored fragments read per query (4,100 queries of one took 0.2 s at 3,000)

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / f"fragments-{code_fingerprint(_SOURCES, _DISTS)}.sqlite"
        self._store = HashStore(self.path, "fragments", "html", "BLOB")
        self._pending: list[tuple[str, bytes]] = []
        self._expected: list[str] = []        # keys in the order the page will ask for them
        self._position: dict[str, int] = {}
        self._ahead: dict[str, bytes] = {}    # read ahead, not yet asked for
        self._absent: set[str] = set()        # read ahead and not stored
        self.hits = self.misses = 0

    def expect(self, key: str) -> None:
        """The page will ask for key after those expected before it: html() reads the stored
        fragments ahead in that order, a batch at a time (a few MB held at once)."""
        self._position[key] = len(self._expected)
        self._expected.append(key)

    def _stored(self, key: str) -> bytes | None:
        if key in self._ahead:
            return self._ahead.pop(key)
        if key in self._absent:
            return None
        start = self._position.get(key)
        batch = [key] if start is None else self._expected[start:start + self._AHEAD]
        found = self._store.get_many(batch)
        self._absent.update(k for k in batch if k not in found)
        html = found.pop(key, None)
        self._ahead.update(found)
        return html

    def html(self, key: str, render: Callable[[], str]) -> bytes:
        """The HTML stored under key, else render()'s (stored too), as UTF-8."""
        found = self._stored(key)
        if isinstance(found, bytes):
            self.hits += 1
            return found
        html = str(render()).encode("utf-8")
        self.misses += 1
        self._absent.discard(key)   # stored from the next flush on
        self._pending.append((key, html))
        if len(self._pending) >= self._FLUSH:
            self.flush()
        return html

    def flush(self) -> None:
        self._store.put_many(self._pending)
        self._pending = []

    def close(self) -> None:
        self.flush()
        self._store.close()


class Fragment:
    """The HTML of one group or contribution, fetched or rendered only when the page is written
    up to it, so the page is still streamed in pieces: as one list of strings, the fragments of
    a 3,000-contribution page held another 100 MB. Its key is view_key(kind, identity); render()
    makes the HTML that identity determines. In the page's template it stands for itself by a
    marker (`__html__`), which the page's writer replaces with utf8()."""

    __slots__ = ("_cache", "_key", "_render", "marker")

    def __init__(self, cache: FragmentCache | None, kind: str, identity: Mapping[str, Any],
                 render: Callable[[], str], marker: str = "") -> None:
        self._cache, self._render, self.marker = cache, render, marker
        self._key = view_key(kind, identity) if cache is not None else ""
        if cache is not None:
            cache.expect(self._key)

    def __html__(self) -> str:
        return self.marker

    def utf8(self) -> bytes:
        if self._cache is None:
            return str(self._render()).encode("utf-8")
        return self._cache.html(self._key, self._render)
