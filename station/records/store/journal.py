"""The crash journal: a run's progress written durably before and after every device write.

>>> import tempfile; from station.records.store.sqlite import SqliteStore
>>> with tempfile.TemporaryDirectory() as folder:
...     store = SqliteStore(f"{folder}/records.sqlite3")
...     entry = store.journal(store.begin_run(slot="A1", mode="production"), "provision", "intent")  # fsynced
...     [(run.slot, store.run_journal(run.run_id)[-1].phase) for run in store.open_runs()]   # after a crash
[('A1', 'intent')]
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from station.core.errors import RecordError
from station.records.canonical import canonical_json
from station.records.entries import JournalEntry, Run
from station.records.model import plain
from station.records.validate import MODES, refuse_secret_names

_INSERT_RUN = (
    "INSERT INTO runs (run_id, slot, mode, devid, state, started, updated, record_id) "
    "VALUES (?, ?, ?, ?, 'open', ?, ?, NULL)"
)
_SELECT_RUN = (
    "SELECT run_id, slot, mode, devid, state, started, updated, record_id FROM runs WHERE run_id = ?"
)
_SELECT_OPEN_RUNS = (
    "SELECT run_id, slot, mode, devid, state, started, updated, record_id FROM runs "
    "WHERE state = 'open' ORDER BY started, run_id"
)
_TOUCH_OPEN_RUN = "UPDATE runs SET updated = ? WHERE run_id = ? AND state = 'open'"
_APPEND = (  # the run's next line number, taken inside the write transaction
    "INSERT INTO journal (run_id, n, step, phase, detail_json, at) "
    "SELECT ?, COALESCE(MAX(n), 0) + 1, ?, ?, ?, ? FROM journal WHERE run_id = ? RETURNING n"
)
_CLOSE_RUN = "UPDATE runs SET state = 'closed', record_id = ?, updated = ? WHERE run_id = ?"


class RunJournal:
    """Run and journal operations; mixed into ``SqliteStore``, which provides the connections."""

    def connect(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def now(self) -> str:
        raise NotImplementedError

    def begin_run(self, slot: str, mode: str, *, run_id: str | None = None, devid: str | None = None) -> str:
        """Open a run for the unit in ``slot`` and return its id (a new UUID unless one is given)."""
        if mode not in MODES:
            raise RecordError(f"run mode {mode!r} is not one of {', '.join(MODES)}")
        run_id = run_id or str(uuid.uuid4())
        at = self.now()
        with self.write() as connection:
            try:
                connection.execute(
                    _INSERT_RUN,
                    (run_id, slot, mode, devid, at, at),
                )
            except sqlite3.IntegrityError:
                raise RecordError(f"run {run_id} already exists") from None
        return run_id

    def set_run_devid(self, run_id: str, devid: str) -> None:
        """Note which unit an open run is about, once the unit has been identified."""
        with self.write() as connection:
            _require_open(connection, run_id)
            connection.execute(
                "UPDATE runs SET devid = ?, updated = ? WHERE run_id = ?", (devid, self.now(), run_id)
            )

    def journal(
        self, run_id: str, step: str, phase: str, detail: Mapping[str, Any] | None = None
    ) -> JournalEntry:
        """Append one line to an open run's journal; durable (fsynced) when this returns."""
        value = plain(detail or {}, "journal detail")
        refuse_secret_names(value, "journal detail")
        at = self.now()
        detail_json = canonical_json(value).decode("utf-8")
        with self.write() as connection:  # two statements: each one releases and retakes the GIL
            if connection.execute(_TOUCH_OPEN_RUN, (at, run_id)).rowcount != 1:
                _require_open(connection, run_id)  # raises: unknown, or closed
            [(n,)] = connection.execute(_APPEND, (run_id, step, phase, detail_json, at, run_id)).fetchall()
        return JournalEntry(run_id, n, step, phase, value, at)

    def close_run(self, run_id: str, record_id: str | None) -> None:
        """Close a run without ``RecordWriter`` (e.g. resolved on restart to a record written earlier)."""
        with self.write() as connection:
            close_run_in(connection, run_id, record_id, self.now())

    def get_run(self, run_id: str) -> Run | None:
        with self.connect() as connection:
            row = connection.execute(_SELECT_RUN, (run_id,)).fetchone()
        return None if row is None else Run(*row)

    def open_runs(self) -> list[Run]:
        """Runs never closed, oldest first: after a restart, each is a crash to resolve."""
        with self.connect() as connection:
            rows = connection.execute(_SELECT_OPEN_RUNS).fetchall()
        return [Run(*row) for row in rows]

    def run_journal(self, run_id: str) -> list[JournalEntry]:
        """The run's journal lines in the order they were written."""
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT run_id, n, step, phase, detail_json, at FROM journal WHERE run_id = ? ORDER BY n",
                (run_id,),
            ).fetchall()
        return list(_entries(rows))


def close_run_in(connection: sqlite3.Connection, run_id: str, record_id: str | None, at: str) -> None:
    """Close ``run_id`` inside an open transaction (the record's, when ``RecordWriter`` calls it)."""
    _require_open(connection, run_id)
    connection.execute(
        "UPDATE runs SET state = 'closed', record_id = ?, updated = ? WHERE run_id = ?",
        (record_id, at, run_id),
    )


def _require_open(connection: sqlite3.Connection, run_id: str) -> None:
    row = connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise RecordError(f"run {run_id} is unknown")
    if row[0] != "open":
        raise RecordError(f"run {run_id} is already closed")


def _entries(rows: list[tuple[Any, ...]]) -> Iterator[JournalEntry]:
    for run_id, n, step, phase, detail_json, at in rows:
        yield JournalEntry(run_id, n, step, phase, json.loads(detail_json), at)
