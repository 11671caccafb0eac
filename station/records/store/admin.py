"""Administering a record store by its target: ``station records migrate [--grant ROLE]``.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:               # or a PostgreSQL URL: the line database
...     path = f"{folder}/records.sqlite3"; first, again = migrate_target(path), migrate_target(path)
...     first.before, first.after == again.before == again.after, again.applied    # re-running is a no-op
(0, True, ())
"""

from __future__ import annotations

from psycopg import sql

from station.records.store.migrate import (
    MigrateResult,
    is_url,
    migrate_postgres,
    migrate_sqlite,
    sqlite_version,
)
from station.records.store.postgres import PostgresStore
from station.records.store.sqlite import SqliteStore

LINE_TABLES = ("records", "unit_registry", "stations", "sync_conflicts")


def grant_station_role(line: PostgresStore, role: str) -> None:
    """Let ``role`` (the stations' login) read and append, and nothing else (docs/line-database.md).

    INSERT and SELECT on the line tables, SELECT on ``schema_migrations``; UPDATE, DELETE and TRUNCATE
    are revoked in case someone granted them, so the role cannot rewrite history even by mistake.
    """
    tables = sql.SQL(", ").join(sql.Identifier(table) for table in LINE_TABLES)
    who = sql.Identifier(role)
    with line.connect() as connection, connection.transaction():
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who))
        connection.execute(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(tables, who))
        connection.execute(sql.SQL("GRANT SELECT ON schema_migrations TO {}").format(who))
        connection.execute(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(tables, who)
        )


def set_test_line(line: PostgresStore, on: bool) -> None:
    """Mark the line a test line (it takes simulated units' records), or a production line again.

    ``station records migrate --test-line`` / ``--no-test-line``; the sync reads it (``line/push.py``).
    """
    with line.connect() as connection:
        connection.execute(
            "INSERT INTO line_settings (name, value) VALUES ('test_line', %s) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = now()",
            ("true" if on else "false",),
        )


def migrate_target(target: str) -> MigrateResult:
    """``station records migrate --store TARGET``: a PostgreSQL URL or a SQLite store file."""
    if is_url(target):
        with PostgresStore(target, check_schema=False).connect() as connection:
            return migrate_postgres(connection)
    store = SqliteStore(target, migrate=False)
    with store.connect() as connection:
        before = sqlite_version(connection)
        applied = migrate_sqlite(connection, store.now())
    return MigrateResult(before, before + len(applied), applied)
