"""HashStore: the same answers by key and by one pass over the table."""

from __future__ import annotations

from pathlib import Path

import pipeline.classify.hash_store as hash_store
from pipeline.classify.hash_store import HashStore


def _store(tmp_path: Path, n: int) -> HashStore:
    store = HashStore(tmp_path / "s.sqlite", "t", "v", "BLOB")
    store.put_many((f"h{i:05d}", f"value {i}".encode()) for i in range(n))
    return store


def test_most_of_the_table_read_in_one_pass_equals_lookups_by_key(tmp_path, monkeypatch):
    store = _store(tmp_path, 3_000)
    wanted = [f"h{i:05d}" for i in range(0, 3_000, 1)] + ["absent", "h00001"]
    scanned = store.get_many(wanted)                 # 3,001 of 3,000 rows: one pass
    monkeypatch.setattr(hash_store, "_SCAN_FROM", 10 ** 9)
    by_key = store.get_many(wanted)
    assert scanned == by_key
    assert len(scanned) == 3_000 and scanned["h02999"] == b"value 2999"
    store.close()


def test_a_few_keys_of_a_large_table_are_looked_up_by_key(tmp_path, monkeypatch):
    store = _store(tmp_path, 5_000)
    calls: list[str] = []
    conn = store._conn
    monkeypatch.setattr(store, "_conn", _Recording(conn, calls))
    found = store.get_many([f"h{i:05d}" for i in range(1_200)] + ["absent"])
    assert len(found) == 1_200 and "absent" not in found
    selects = [sql for sql in calls if sql.startswith("SELECT hash")]
    assert selects and all(" IN (" in sql for sql in selects)
    monkeypatch.setattr(store, "_conn", conn)
    store.close()


def test_replaced_rows_keep_one_value(tmp_path):
    store = _store(tmp_path, 1_500)
    store.put_many([("h00000", b"new")])
    found = store.get_many([f"h{i:05d}" for i in range(1_500)])
    assert found["h00000"] == b"new" and len(found) == 1_500
    store.close()


class _Recording:
    def __init__(self, conn, calls: list[str]) -> None:
        self._conn, self._calls = conn, calls

    def execute(self, sql: str, *args):
        self._calls.append(sql)
        return self._conn.execute(sql, *args)
