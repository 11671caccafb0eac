"""Numbered plain-SQL schema migrations for a station's SQLite store and for the line database.

>>> connection = sqlite3.connect(":memory:", isolation_level=None)           # what SqliteStore does on open
>>> applied = migrate_sqlite(connection, "2025-01-02T03:04:05.678Z")
>>> sqlite_version(connection) == latest("sqlite") == len(applied), migrate_sqlite(connection, "later")
(True, ())
>>> connection.close()
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from station.core.errors import RecordError

if TYPE_CHECKING:  # the SQLite side must not load the PostgreSQL driver (the CLI's start-up time)
    import psycopg

DIALECTS = ("sqlite", "postgres")
ADVISORY_LOCK = 0x5354_4D49  # "STMI": serialises concurrent `station records migrate` runs
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sqlite|postgres)\.sql$")
_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
_POSTGRES_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    dialect: str
    sql: str = field(repr=False)


@dataclass(frozen=True)
class MigrateResult:
    before: int
    after: int
    applied: tuple[Migration, ...]


@cache
def migrations(dialect: str) -> tuple[Migration, ...]:
    """The shipped steps for ``dialect``, in order; numbered 1, 2, 3 ... without a gap."""
    if dialect not in DIALECTS:
        raise RecordError(f"unknown database dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    found: list[Migration] = []
    for entry in resources.files("station.records.store").joinpath("migrations").iterdir():
        match = _FILE.match(entry.name)
        if match is not None and match.group(3) == dialect:
            found.append(Migration(int(match.group(1)), match.group(2), dialect, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    numbers = [migration.version for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RecordError(f"{dialect} migrations are not numbered 1..N without gaps: {numbers}")
    return tuple(found)


def latest(dialect: str) -> int:
    """The schema version this software brings for ``dialect``."""
    return len(migrations(dialect))


def is_url(target: str) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgres://``), False for a file path."""
    return target.startswith(("postgresql://", "postgres://"))


# --- SQLite ------------------------------------------------------------------------------------------------


def migrate_sqlite(connection: sqlite3.Connection, now: str) -> tuple[Migration, ...]:
    """Apply the pending steps on an autocommit connection; returns those applied by this call."""
    applied: list[Migration] = []
    for migration in migrations("sqlite"):
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = sqlite_version(connection)
            if migration.version <= version:
                connection.execute("ROLLBACK")
                continue
            for statement in sqlite_statements(migration.sql):
                connection.execute(statement)
            _record_sqlite(connection, migration, version, now)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        applied.append(migration)
    return tuple(applied)


def sqlite_version(connection: sqlite3.Connection) -> int:
    """The store's schema version (``PRAGMA user_version``); a newer one than ours is refused."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > latest("sqlite"):
        raise RecordError(f"schema version {version}; this software knows {latest('sqlite')}")
    return version


def sqlite_statements(script: str) -> list[str]:
    """Split a script into single statements (``executescript`` would commit our transaction)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if any(line.strip() and not line.strip().startswith("--") for line in pending.splitlines()):
        raise RecordError(f"migration ends inside a statement: {pending.strip()[:60]!r}")
    return statements


def _record_sqlite(connection: sqlite3.Connection, migration: Migration, version: int, now: str) -> None:
    connection.execute(_SQLITE_TABLE)
    (rows,) = connection.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
    if rows == 0:  # a store from before schema_migrations: note the steps it already had
        for earlier in migrations("sqlite")[:version]:
            connection.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", (earlier.version, earlier.name, "adopted")
            )
    connection.execute(
        "INSERT INTO schema_migrations VALUES (?, ?, ?)", (migration.version, migration.name, now)
    )
    connection.execute(f"PRAGMA user_version = {migration.version:d}")


# --- PostgreSQL --------------------------------------------------------------------------------------------


def migrate_postgres(connection: psycopg.Connection[tuple[Any, ...]]) -> MigrateResult:
    """Apply the pending steps in one transaction; the connection must be allowed to create tables."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
        connection.execute(_POSTGRES_TABLE)
        before = postgres_version(connection)
        if before > latest("postgres"):
            raise RecordError(f"schema version {before}; this software knows {latest('postgres')}")
        pending = migrations("postgres")[before:]
        for migration in pending:
            connection.execute(migration.sql.encode("utf-8"))
            connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return MigrateResult(before, before + len(pending), pending)


def postgres_version(connection: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The line database's schema version: 0 before the first migration."""
    row = connection.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    version = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(version[0]) if version is not None else 0
