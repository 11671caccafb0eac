"""Migration 0003 (access): a station store from before accounts gains them and keeps its records."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from station.records.store.migrate import latest, migrations, sqlite_statements
from station.records.store.sqlite import SqliteStore


def test_a_version_2_store_is_upgraded_with_users_and_audit_log(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    path.touch(mode=0o600)  # a station's store is its owner's only
    with sqlite3.connect(path) as connection:
        for migration in migrations("sqlite")[:2]:
            for statement in sqlite_statements(migration.sql):
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 2")
    store = SqliteStore(path)
    with store.connect() as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        steps = connection.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert {"records", "users", "audit_log"} <= tables
    assert (3, "access") in steps and steps[-1][0] == latest("sqlite") == latest("postgres")
