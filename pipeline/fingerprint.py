"""What a cache's results depend on besides their input: the code that computes them and the
versions of the libraries it calls. The rule, prediction and cluster caches hash this into their
file names or keys, so that a change to either starts afresh instead of serving stale results.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

PACKAGE = Path(__file__).resolve().parent


def hash_code(h: Any, sources: Iterable[str], dists: Iterable[str] = ()) -> None:
    """Feed `h` (a hashlib object) the bytes of `sources` (paths relative to the package) and
    the installed version of each distribution in `dists` ("?" when it is not installed)."""
    for rel in sources:
        h.update((PACKAGE / rel).read_bytes())
    for dist in dists:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "?"
        h.update(f"{dist}={version}".encode())


@lru_cache(maxsize=None)
def code_fingerprint(sources: tuple[str, ...], dists: tuple[str, ...] = ()) -> str:
    """16 hex digits of sha256 over hash_code(sources, dists): computed once per process."""
    h = hashlib.sha256()
    hash_code(h, sources, dists)
    return h.hexdigest()[:16]


# the libraries that turn a paragraph's data into the bytes of an output
_OUTPUT_DISTS = ("jinja2", "markupsafe", "xlsxwriter", "python-docx", "orjson")


@lru_cache(maxsize=None)
def package_fingerprint() -> str:
    """Of every module and template of the package and of the output libraries: what the
    caches keyed by a contribution's provenance (ContributionMemo.states) depend on besides it.
    Any change to the code starts them afresh, which no single module's list can forget."""
    sources = tuple(sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
                           if p.suffix in (".py", ".j2") and "__pycache__" not in p.parts))
    return code_fingerprint(sources, _OUTPUT_DISTS)
