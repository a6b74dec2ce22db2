"""What a cache's results depend on besides their input: the code that computes them and the
versions of the libraries it calls. The rule, prediction and cluster caches hash this into their
file names or keys, so that a change to either starts afresh instead of serving stale results.
"""

from __future__ import annotations

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
