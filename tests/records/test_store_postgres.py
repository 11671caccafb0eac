"""The line database: the store contract after a real sync, migrations, the stations' role, errors.

Needs a PostgreSQL server (``tests/pgserver.py``): ``STATION_TEST_PG``, or the server binaries for a
throwaway cluster; without either these tests skip locally and fail under CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from station.core.errors import RecordError
from station.records.line.sync import sync
from station.records.store import RecordStore
from station.records.store.admin import migrate_target
from station.records.store.migrate import latest, migrations
from station.records.store.postgres import PostgresStore, redact
from tests.pgserver import create_database, drop_database, with_database
from tests.records.contract import Source, StoreContract, make_source
from tests.records.factories import Ca

REPO = Path(__file__).resolve().parents[2]


def station_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


class TestPostgresStore(StoreContract):
    refused = psycopg.IntegrityError

    @pytest.fixture
    def store(self, source: Source, station_role: str) -> RecordStore:
        """The line database filled by the sync, connected as the stations' role (INSERT + SELECT only)."""
        line = PostgresStore(station_role)
        report = sync(source.local, line, source.key.public_key(), batch=3)
        assert report.ok and report.sent == len(source.written)
        return line

    def raw(self, store: RecordStore, statement: str, *parameters: object) -> None:
        with psycopg.connect(self.owner_url, autocommit=True) as connection:
            connection.execute(statement.replace("?", "%s").encode(), parameters)

    @pytest.fixture(autouse=True)
    def _owner(self, line_url: str) -> None:
        self.owner_url = line_url  # the owner: not stopped by GRANTs, so only the triggers refuse


def test_migrate_is_idempotent_from_the_command_line(pg_admin: str) -> None:
    name = f"line_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_admin, name)
    try:
        with pytest.raises(RecordError, match=r"schema version 0.*station records migrate"):
            PostgresStore(url).stations()
        first = station_cli("records", "migrate", "--store", url)
        assert first.returncode == 0, first.stderr
        assert f"schema version 0 -> {latest('postgres')}" in first.stdout
        assert "0001_records, 0002_sync" in first.stdout
        again = station_cli("records", "migrate", "--store", url)
        assert again.returncode == 0, again.stderr
        assert "nothing to apply" in again.stdout
        with psycopg.connect(url) as connection:
            rows = connection.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
        assert rows == [(m.version, m.name) for m in migrations("postgres")]
        assert PostgresStore(url).stations() == []
    finally:
        drop_database(pg_admin, name)


def test_both_databases_have_the_same_numbered_steps() -> None:
    assert [(m.version, m.name) for m in migrations("sqlite")] == [
        (m.version, m.name) for m in migrations("postgres")
    ]


def test_migrate_adopts_and_upgrades_a_sqlite_store(tmp_path: Path) -> None:
    result = migrate_target(str(tmp_path / "records.sqlite3"))
    assert (result.before, result.after) == (0, latest("sqlite"))
    assert migrate_target(str(tmp_path / "records.sqlite3")).applied == ()


def test_the_stations_role_may_insert_and_select_but_never_update_or_delete(
    station_role: str, tmp_path: Path, ca: Ca
) -> None:
    source = make_source(tmp_path, ca)
    line = PostgresStore(station_role)
    assert sync(source.local, line, source.key.public_key()).sent == len(source.written)
    assert line.stations() == ["st-a", "st-b"]
    with psycopg.connect(station_role, autocommit=True) as connection:
        for statement in (
            "UPDATE records SET outcome = 'pass'",
            "DELETE FROM records",
            "TRUNCATE records",
            "UPDATE unit_registry SET station_id = 'x'",
            "DELETE FROM unit_registry",
            "UPDATE stations SET public_key = 'x'",
            "DELETE FROM stations",
            "DELETE FROM sync_conflicts",
            "DROP TABLE records",
            "CREATE TABLE records_copy (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement.encode())
    assert len(list(line.records())) == len(source.written)


def test_migrate_grant_from_the_command_line(pg_admin: str, line_url: str) -> None:
    role = f"station_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        result = station_cli("records", "migrate", "--store", line_url, "--grant", role)
        assert result.returncode == 0, result.stderr
        assert f"to role {role}" in result.stdout
        as_role = with_database(
            line_url, str(psycopg.conninfo.conninfo_to_dict(line_url)["dbname"]), user=role
        )
        assert PostgresStore(as_role).stations() == []
        with psycopg.connect(as_role) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM records")
    finally:
        with psycopg.connect(line_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with psycopg.connect(pg_admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_errors_and_reprs_never_show_the_password() -> None:
    url = "postgresql://station:s3cret-pw@127.0.0.1:1/line"
    store = PostgresStore(url, connect_timeout=1)
    assert "s3cret-pw" not in repr(store)
    with pytest.raises(RecordError) as caught:
        store.find_production(devid="00")
    assert "s3cret-pw" not in str(caught.value)
    assert "postgresql://station:***@127.0.0.1:1/line" in str(caught.value)
    assert redact("host=db password=hunter2 user=x") == "host=db password=*** user=x"
