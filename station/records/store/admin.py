"""Administering a record store by its target: ``station records migrate [--grant ROLE]``.

Example::

    result = migrate_target("postgresql://line_owner@db.example/line")   # or a SQLite store file
    print(f"schema version {result.before} -> {result.after}")
    grant_station_role(PostgresStore(url), "station")                   # read and append, nothing else

Apart from ``migrate.py`` because these open a store (SQLite or PostgreSQL) and both stores use
``migrate.py`` on open: kept there, the migrations would import the stores that import them.
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
