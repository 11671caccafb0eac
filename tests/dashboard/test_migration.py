"""Migration 0005: the line database keeps the payload fields the dashboard counts by, new and old rows."""

from __future__ import annotations

import psycopg

from station.records.store.admin import migrate_target
from station.records.store.migrate import migrations
from tests.dashboard.conftest import Line
from tests.pgserver import create_database, drop_database

FACTS = "SELECT record_id, fail_step, fail_code, fail_message, profile, operator_id FROM records ORDER BY seq"
ROW = "INSERT INTO records (station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws) "


def _expected(line: Line) -> dict[str, tuple[object, ...]]:
    from station.dashboard.facts import Facts

    found: dict[str, tuple[object, ...]] = {}
    for record in line.store.records():
        facts = Facts.of(record.payload)
        found[record.record_id] = (
            facts.fail_step,
            facts.fail_code,
            facts.fail_message,
            facts.profile,
            facts.operator_id,
        )
    return found


def test_rows_held_before_the_migration_are_filled(line: Line, pg_admin: str) -> None:
    url = create_database(pg_admin, "line_before_0005")
    try:
        with psycopg.connect(url, autocommit=True) as connection, connection.transaction():
            connection.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for step in migrations("postgres")[:4]:
                connection.execute(step.sql.encode("utf-8"))
                connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (step.version, step.name)
                )
            for r in line.store.records():
                connection.execute(
                    ROW + "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        r.station_id,
                        r.seq,
                        r.record_id,
                        r.devid,
                        r.genuine_id,
                        r.mode,
                        r.outcome,
                        r.created,
                        r.jws,
                    ),
                )
        assert migrate_target(url).after >= 5
        with psycopg.connect(url) as connection:
            held = {row[0]: row[1:] for row in connection.execute(FACTS)}
        assert held == _expected(line)
        with psycopg.connect(url) as connection:  # still append-only after the one backfill
            try:
                connection.execute("UPDATE records SET profile = 'x'")
                raise AssertionError("an UPDATE of records passed")
            except psycopg.errors.IntegrityConstraintViolation:
                pass
    finally:
        drop_database(pg_admin, "line_before_0005")


def test_new_rows_get_their_facts_and_a_damaged_payload_gets_nulls(synced_line: tuple[Line, str]) -> None:
    line, url = synced_line
    with psycopg.connect(url, autocommit=True) as connection:
        held = {row[0]: row[1:] for row in connection.execute(FACTS)}
        assert held == _expected(line)
        connection.execute(ROW + "VALUES ('bad-st01', 1, 'bad-1', NULL, NULL, 'qa', 'fail', 'now', 'a.b.c')")
        connection.execute(
            ROW + "VALUES ('bad-st01', 2, 'bad-2', NULL, NULL, 'qa', 'fail', 'now', 'a.eyJ4Ijox.c')"
        )
        forged = connection.execute(  # what an INSERT says is overwritten with what the payload says
            ROW.replace(") ", ", profile) ")
            + "VALUES ('bad-st01', 3, 'bad-3', NULL, NULL, 'qa', 'fail', 'now', "
            "'a.b.c', 'forged') RETURNING profile"
        ).fetchone()
        rows = connection.execute(
            "SELECT fail_step, profile FROM records WHERE station_id = 'bad-st01'"
        ).fetchall()
    assert forged == (None,) and rows == [(None, None)] * 3
