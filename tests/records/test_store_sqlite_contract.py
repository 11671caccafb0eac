"""The store contract against a station's own SQLite store, and its schema migrations."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from station.core.errors import RecordError
from station.records import SqliteStore
from station.records.store import RecordStore
from station.records.store.migrate import latest, migrations, sqlite_statements
from tests.records.contract import Source, StoreContract


class TestSqliteStore(StoreContract):
    refused = sqlite3.IntegrityError

    @pytest.fixture
    def store(self, source: Source) -> RecordStore:
        return source.local

    def raw(self, store: RecordStore, statement: str, *parameters: object) -> None:
        assert isinstance(store, SqliteStore)
        with closing(sqlite3.connect(store.path, isolation_level=None)) as connection:
            connection.execute(statement, parameters)


def test_a_store_from_before_migrations_is_adopted_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    path.touch(mode=0o600)  # a station's store is its owner's only
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:  # what version 1 wrote
        connection.execute("PRAGMA journal_mode = WAL")
        for statement in sqlite_statements(migrations("sqlite")[0].sql):
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")

    SqliteStore(path)
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        connection.execute("SELECT state FROM sync_state").fetchall()  # the new table is there
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in migrations("sqlite")]
    assert rows[0][2] == "adopted"
    assert version == latest("sqlite")


def test_a_store_newer_than_this_software_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    SqliteStore(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute("PRAGMA user_version = 99")
    refusal = rf"records.sqlite3 has schema version 99; this software knows {latest('sqlite')}"
    with pytest.raises(RecordError, match=refusal):
        SqliteStore(path)
