"""The record store's write connections: a worker thread keeps one, the main thread opens one per write."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from station.core.errors import RecordError
from station.records.store.sqlite import SqliteStore


def in_thread(action: Callable[[], object]) -> list[object]:
    """Run ``action()`` in a new thread and return what it returned (or raised)."""
    out: list[object] = []

    def body() -> None:
        try:
            out.append(action())
        except BaseException as exc:  # handed back to the test
            out.append(exc)

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    return out


def wal(store: SqliteStore) -> Path:
    return store.path.with_name(store.path.name + "-wal")


def test_a_worker_thread_reuses_its_connection_and_closes_it_when_it_ends(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "records.sqlite3")

    def two_writes() -> tuple[bool, bool]:
        run_id = store.begin_run("A1", "production")
        with store.write() as first:
            pass
        with store.write() as second:
            pass
        store.journal(run_id, "provision", "intent", {"eid": "f00d"})
        return first is second, wal(store).exists()

    assert in_thread(two_writes) == [(True, True)]  # one connection, which holds the WAL open...
    assert not wal(store).exists()  # ...and the thread's end closed it: the file stands alone again
    with sqlite3.connect(store.path) as raw:  # what a copy of the file alone holds
        assert raw.execute("SELECT phase FROM journal").fetchall() == [("intent",)]


def test_the_main_thread_opens_a_connection_per_write(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "records.sqlite3")
    store.begin_run("A1", "production")
    assert not wal(store).exists()  # closed after the transaction: a tool leaves a self-contained file


def test_a_failed_write_drops_the_kept_connection(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "records.sqlite3")

    def fail_then_write() -> bool:
        with store.write() as before:
            pass
        with pytest.raises(RecordError, match="no such table"), store.write() as connection:
            connection.execute("SELECT * FROM no_such_table")
        with store.write() as after:
            after.execute("SELECT 1")
        return before is not after

    assert in_thread(fail_then_write) == [True]
