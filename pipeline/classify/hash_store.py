"""One SQLite table of content hash -> value: the storage under the embedding and rule caches.

WAL mode so that concurrent runs can read while one writes; lookups in chunks so that a corpus
of any size stays under SQLite's limit on bound parameters.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterable, Sequence

_LOOKUP_CHUNK = 500


class HashStore:
    """`hash TEXT PRIMARY KEY, <column> <sql_type>` in table `table` of the file at `path`."""

    def __init__(self, path: Path, table: str, column: str, sql_type: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._table = table
        self._column = column
        self._conn = sqlite3.connect(path, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {table} "
                           f"(hash TEXT PRIMARY KEY, {column} {sql_type} NOT NULL)")
        self._conn.commit()

    def get_many(self, hashes: Sequence[str]) -> dict[str, Any]:
        """The stored values of those hashes that are present."""
        out: dict[str, Any] = {}
        unique = list(dict.fromkeys(hashes))
        for i in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[i:i + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(self._conn.execute(
                f"SELECT hash, {self._column} FROM {self._table} WHERE hash IN ({marks})", chunk))
        return out

    def put_many(self, rows: Iterable[tuple[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            with self._conn:
                self._conn.executemany(f"INSERT OR REPLACE INTO {self._table} "
                                       f"(hash, {self._column}) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0])

    def close(self) -> None:
        self._conn.close()
