"""Store-and-forward into the line database: verified, idempotent, nothing dropped, refusals reported.

Every sync here connects as the stations' role (INSERT and SELECT only), as a real station does.
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.cli.line import cmd_migrate
from station.cli.records import cmd_show
from station.core.events import EventBus, LogLine, Outcome, RunFinished
from station.factory.keys.keystore import open_file_key
from station.records import (
    RecordDraft,
    RecordWriter,
    SqliteStore,
    StoredRecord,
    key_id,
    trusted_keys_from,
    verify_store,
)
from station.records.line import state as syncstate
from station.records.line.link import LineLink
from station.records.line.push import is_test_line, push_batch, register_station
from station.records.line.sync import sync
from station.records.store.admin import set_test_line
from station.records.store.postgres import PostgresStore, public_key_text
from tests.records.chains import write_chain
from tests.records.factories import CONFIG_SHA256, Ca, draft, random_unit

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Station:
    """A station's store, its writer and its signing key."""

    writer: RecordWriter
    key: Ed25519PrivateKey

    @property
    def store(self) -> SqliteStore:
        return self.writer.store

    def append(self, record: RecordDraft) -> StoredRecord:
        return self.writer.append(record)


def new_station(folder: Path, station_id: str, key: Ed25519PrivateKey | None = None) -> Station:
    key = key or Ed25519PrivateKey.generate()
    store = SqliteStore(folder / station_id / "records.sqlite3")
    writer = RecordWriter(store, key, key_id(key.public_key()), station_id, config_sha256=CONFIG_SHA256)
    return Station(writer, key)


def conflicts(line_url: str) -> list[tuple[str, int, str]]:
    with psycopg.connect(line_url) as connection:
        return connection.execute("SELECT station_id, seq, kind FROM sync_conflicts ORDER BY id").fetchall()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def shown(store: SqliteStore, record_id: str) -> str:
    out = io.StringIO()
    cmd_show(store.path, record_id, out=out, err=io.StringIO())
    return out.getvalue()


def test_sync_sends_every_record_once_in_batches(tmp_path: Path, station_role: str, ca: Ca) -> None:
    writer = new_station(tmp_path, "st-a")
    written = [writer.append(draft(ca, outcome="pass" if i % 2 else "fail")) for i in range(7)]
    line = PostgresStore(station_role)
    assert "line db      not sent yet" in shown(writer.store, written[0].record_id)

    first = sync(writer.store, line, writer.key.public_key(), batch=3)
    assert (first.sent, first.already, first.refused) == (7, 0, [])
    again = sync(writer.store, line, writer.key.public_key(), batch=3)
    assert (again.sent, again.already, again.refused) == (0, 0, [])

    assert [r.jws for r in line.records()] == [r.jws for r in written]
    assert syncstate.summary(writer.store) == syncstate.SyncSummary(sent=7, refused=0, unsent=0)
    assert "line db      sent 20" in shown(writer.store, written[6].record_id)
    assert line.station_keys("st-a") == {writer.writer.station.key_id: writer.key.public_key()}


def test_a_tampered_record_is_refused_kept_and_reported(
    tmp_path: Path, station_role: str, line_url: str
) -> None:
    writer = new_station(tmp_path, "st-a")
    written = [writer.append(draft(outcome="fail")) for _ in range(6)]
    head, body, signature = written[2].jws.split(".")
    forged = f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    with closing(sqlite3.connect(writer.store.path, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER records_no_update")  # a hand with the sqlite3 shell
        connection.execute("UPDATE records SET jws = ? WHERE seq = 3", (forged,))

    line = PostgresStore(station_role)
    for _ in range(2):  # refused again the second time, and reported once
        report = sync(writer.store, line, writer.key.public_key(), batch=2)
        assert not report.ok
        (refusal,) = report.refused
        assert (refusal.seq, refusal.record_id) == (3, written[2].record_id)
        assert "signature does not verify" in refusal.reason
        assert report.waiting == 3
    assert [r.seq for r in line.records()] == [1, 2]
    assert conflicts(line_url) == [("st-a", 3, "refused")]
    assert syncstate.summary(writer.store) == syncstate.SyncSummary(sent=2, refused=1, unsent=3)
    assert len(list(writer.store.records())) == 6  # nothing dropped
    assert "line db      REFUSED" in shown(writer.store, written[2].record_id)


def test_another_key_for_a_registered_station_waits_for_an_administrator(
    tmp_path: Path, station_role: str, line_url: str
) -> None:
    writer = new_station(tmp_path, "st-a")
    writer.append(draft(outcome="fail"))
    line = PostgresStore(station_role)
    register_station(line, "st-a", Ed25519PrivateKey.generate().public_key())  # someone else came first

    report = sync(writer.store, line, writer.key.public_key())
    (refusal,) = report.refused
    assert "signed by unknown key" in refusal.reason
    assert "a line administrator must register" in refusal.reason

    with psycopg.connect(line_url) as connection:  # the administrator, as docs/line-database.md says
        connection.execute(
            "INSERT INTO stations (station_id, key_id, public_key) VALUES (%s, %s, %s)",
            ("st-a", writer.writer.station.key_id, public_key_text(writer.key.public_key())),
        )
    assert sync(writer.store, line, writer.key.public_key()).sent == 1
    assert syncstate.summary(writer.store) == syncstate.SyncSummary(sent=1, refused=0, unsent=0)


def test_a_different_record_for_a_held_seq_is_flagged(
    tmp_path: Path, station_role: str, line_url: str
) -> None:
    key = Ed25519PrivateKey.generate()
    original, restored = new_station(tmp_path / "a", "st-a", key), new_station(tmp_path / "b", "st-a", key)
    for _ in range(3):
        original.append(draft(outcome="fail"))
        restored.append(draft(outcome="fail"))  # the same station id and key, another history (a bad restore)
    line = PostgresStore(station_role)
    assert sync(original.store, line, key.public_key()).sent == 3

    report = sync(restored.store, line, key.public_key())
    (refusal,) = report.refused
    assert refusal.seq == 1 and "holds a different record" in refusal.reason
    assert report.sent == 0
    assert [r.jws for r in line.records()] == [r.jws for r in original.store.records()]
    assert conflicts(line_url) == [("st-a", 1, "different-record")]


def test_a_sync_killed_after_its_commit_resumes_without_duplicates(tmp_path: Path, station_role: str) -> None:
    writer = new_station(tmp_path, "st-a")
    written = [writer.append(draft(outcome="fail")) for _ in range(5)]
    line = PostgresStore(station_role)
    register_station(line, "st-a", writer.key.public_key())
    push_batch(line, "st-a", written[:3])  # committed in the line, never marked sent here

    report = sync(writer.store, line, writer.key.public_key(), batch=2)
    assert (report.already, report.sent, report.refused) == (3, 2, [])
    assert [r.seq for r in line.records()] == [1, 2, 3, 4, 5]
    assert syncstate.summary(writer.store).sent == 5


def test_a_unit_passed_on_two_stations_is_kept_and_reported(
    tmp_path: Path, station_role: str, line_url: str, ca: Ca
) -> None:
    unit = random_unit()
    first, second = new_station(tmp_path, "st-a"), new_station(tmp_path, "st-b")
    earlier = first.append(draft(ca, unit=unit))
    later = second.append(draft(ca, unit=unit))
    line = PostgresStore(station_role)
    sync(first.store, line, first.key.public_key())

    report = sync(second.store, line, second.key.public_key())
    assert report.ok and report.sent == 1
    (note,) = report.duplicate_units
    assert f"record {earlier.record_id}" in note and "station st-a" in note
    entry = line.find_production(genuine_id=unit.genuine_id)
    assert entry is not None and entry.record_id == earlier.record_id
    assert line.get(later.record_id) == later  # the evidence is kept
    assert conflicts(line_url) == [("st-b", 1, "duplicate-unit")]


def test_lookups_go_local_first_then_to_the_line_and_survive_a_dead_line(
    tmp_path: Path, station_role: str, ca: Ca
) -> None:
    unit = random_unit()
    first, second = new_station(tmp_path, "st-a"), new_station(tmp_path, "st-b")
    provisioned = first.append(draft(ca, unit=unit))
    sync(first.store, PostgresStore(station_role), first.key.public_key())

    link = LineLink(second.store, station_role, second.key.public_key())
    entry = link.find_production(genuine_id=unit.genuine_id)
    assert entry is not None and (entry.station_id, entry.record_id) == ("st-a", provisioned.record_id)
    assert link.find_production(genuine_id="00" * 9) is None

    dead = LineLink(first.store, "postgresql://station:pw@127.0.0.1:1/line", first.key.public_key())
    said: list[LogLine] = []
    bus = EventBus()
    bus.subscribe(lambda event: said.append(event) if isinstance(event, LogLine) else None)
    dead.start(bus)
    local = dead.find_production(devid=unit.devid)  # the local registry answers
    assert local is not None and local.record_id == provisioned.record_id
    assert dead.find_production(devid="0" * 16) is None  # and a dead line is no error
    dead.stop()
    assert any("local registry only" in line.message and line.level == "warning" for line in said)
    assert all(":pw@" not in line.message for line in said)


def test_the_background_thread_forwards_finished_units(tmp_path: Path, station_role: str, ca: Ca) -> None:
    writer = new_station(tmp_path, "st-a")
    line = PostgresStore(station_role)
    link = LineLink(writer.store, station_role, writer.key.public_key(), interval=3600)
    bus = EventBus()
    link.start(bus)
    try:
        stored = writer.append(draft(ca))
        bus.publish(RunFinished("A1", time.time(), "run-1", Outcome.PASS, stored.devid, stored.record_id))
        wait_for(lambda: line.last("st-a") is not None, "the woken thread to sync")
        last = writer.append(draft(ca, outcome="fail"))
    finally:
        link.stop()  # a last sync on the way out
    assert line.last("st-a") == last
    assert syncstate.summary(writer.store).unsent == 0


def test_a_sync_killed_mid_batch_loses_and_duplicates_nothing(
    tmp_path: Path, station_role: str, line_url: str
) -> None:
    data = tmp_path / "data"
    key = open_file_key("file:keys/station-signing.pem", data).ed25519()
    store = SqliteStore(data / "records.sqlite3")
    total = write_chain(store, key, "st-kill", 600)
    command = [
        sys.executable,
        "-m",
        "station.cli.main",
        "records",
        "sync",
        "--data",
        str(data),
        "--store",
        station_role,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    line = PostgresStore(line_url)

    def line_count() -> int:
        with psycopg.connect(line_url) as connection:
            row = connection.execute("SELECT COUNT(*) FROM records").fetchone()
        return int(row[0]) if row else 0

    worker = subprocess.Popen(
        [*command, "--batch", "5"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: line_count() >= 50 or worker.poll() is not None, "the sync to get going")
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(30)
    assert worker.returncode == -signal.SIGKILL, "the sync finished before it could be killed"
    assert 0 < line_count() < total

    again = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"this store: {total} sent, 0 refused, 0 not sent" in again.stdout
    assert [r.seq for r in line.records()] == list(range(1, total + 1))
    assert [r.jws for r in line.records()] == [r.jws for r in store.records()]
    assert verify_store(line, trusted_keys_from([key.public_key()])).ok


def test_a_production_line_refuses_simulated_units_until_it_is_made_a_test_line(
    tmp_path: Path, station_role: str, line_url: str, ca: Ca
) -> None:
    set_test_line(PostgresStore(line_url), False)  # a production line (the fixture makes a test line)
    writer = new_station(tmp_path, "st-a")
    real = [writer.append(replace(draft(ca), simulated=False)) for _ in range(2)]
    simulated = writer.append(draft(ca))  # simulated: true
    writer.append(replace(draft(ca), simulated=False))
    line = PostgresStore(station_role)  # the station's role: it reads the setting, cannot change it

    for _ in range(2):  # refused again the second time, and reported once
        report = sync(writer.store, line, writer.key.public_key(), batch=10)
        (refusal,) = report.refused
        assert (refusal.seq, refusal.record_id) == (3, simulated.record_id)
        assert "simulated unit" in refusal.reason and "not a test line" in refusal.reason
        assert report.waiting == 1
    assert [r.record_id for r in line.records()] == [r.record_id for r in real]  # the records before it
    assert conflicts(line_url) == [("st-a", 3, "refused")]
    assert syncstate.summary(writer.store) == syncstate.SyncSummary(sent=2, refused=1, unsent=1)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), psycopg.connect(station_role) as connection:
        connection.execute("UPDATE line_settings SET value = 'true'")

    out = io.StringIO()
    assert cmd_migrate(line_url, test_line=True, out=out) == 0  # the line administrator
    assert "now a test line: it takes records of simulated units" in out.getvalue()
    again = sync(writer.store, line, writer.key.public_key())
    assert (again.sent, again.refused) == (2, [])
    assert syncstate.summary(writer.store) == syncstate.SyncSummary(sent=4, refused=0, unsent=0)


def test_test_line_is_a_setting_of_the_line_database_only(tmp_path: Path, line_url: str) -> None:
    assert cmd_migrate(str(tmp_path / "records.sqlite3"), test_line=True) == 2
    out = io.StringIO()
    assert cmd_migrate(line_url, test_line=False, out=out) == 0
    assert "now a production line: it refuses records of simulated units" in out.getvalue()
    with psycopg.connect(line_url) as connection:
        assert is_test_line(connection) is False


def test_a_long_backlog_checked_on_every_core_is_pushed_up_to_the_first_bad_record(
    tmp_path: Path, station_role: str, line_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``FANOUT_AFTER`` records the sync checks them in worker processes: the same prefix is pushed,
    the same record refused, as when every record is checked in the sync's own process."""
    from station.records.check import fanout

    monkeypatch.setattr(fanout, "FANOUT_AFTER", 30)
    monkeypatch.setattr(fanout, "CHUNK", 20)
    key = Ed25519PrivateKey.generate()
    store = SqliteStore(tmp_path / "records.sqlite3")
    write_chain(store, key, "st-b", 240)
    text = store.at("st-b", 170)
    assert text is not None
    head, body, signature = text.jws.split(".")
    with closing(sqlite3.connect(store.path, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER records_no_update")
        forged = f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        connection.execute("UPDATE records SET jws = ? WHERE seq = 170", (forged,))
    line = PostgresStore(station_role)
    set_test_line(PostgresStore(line_url), True)
    report = sync(store, line, key.public_key(), batch=25)
    (refusal,) = report.refused
    assert (report.sent, refusal.seq, report.waiting) == (169, 170, 70)
    assert "signature does not verify" in refusal.reason
    assert [r.seq for r in line.records()] == list(range(1, 170))
