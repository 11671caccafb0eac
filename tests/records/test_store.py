"""The SQLite record store: chain fields, durability settings, append-only triggers, registry, threads."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.core.errors import RecordError
from station.records import RecordWriter, SqliteStore, jws, key_id, verify_chain, verify_store
from station.records.store import sqlite as sqlite_module
from tests.records.conftest import STATION
from tests.records.factories import CONFIG_SHA256, Ca, draft, random_unit


def raw_connection(store: SqliteStore) -> closing[sqlite3.Connection]:
    """A plain sqlite3 connection, as anyone with the file has: only the schema's triggers stop it."""
    return closing(sqlite3.connect(store.path, isolation_level=None))


def test_first_records_start_the_chain(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    first = writer.append(draft(ca))
    second = writer.append(draft(ca, outcome="fail"))
    assert (first.seq, first.payload["prev"]) == (1, "0" * 64)
    assert second.seq == 2
    assert second.payload["prev"] == hashlib.sha256(first.jws.encode()).hexdigest()
    assert first.payload["station"] == {
        "id": STATION,
        "software": writer.station.software,
        "config_sha256": CONFIG_SHA256,
        "key_id": writer.station.key_id,
    }
    assert store.get(first.record_id) == first
    assert store.last(STATION) == second
    assert store.at(STATION, 1) == first
    assert store.get("no-such-record") is None and store.last("other") is None


def test_append_returns_after_commit(writer: RecordWriter, store_path: Path, ca: Ca) -> None:
    stored = writer.append(draft(ca))
    with sqlite3.connect(store_path) as raw:  # another connection sees it at once: committed
        (text,) = raw.execute("SELECT jws FROM records WHERE record_id = ?", (stored.record_id,)).fetchone()
    assert text == stored.jws


def test_connections_use_wal_full_sync_and_foreign_keys(store: SqliteStore) -> None:
    with store.connect() as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] > 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records SET outcome = 'pass'",
        "DELETE FROM records",
        "UPDATE unit_registry SET devid = 'x'",
        "DELETE FROM unit_registry",
        "UPDATE journal SET phase = 'done'",
        "DELETE FROM journal",
        "DELETE FROM runs",
    ],
)
def test_append_only_triggers(writer: RecordWriter, store: SqliteStore, ca: Ca, statement: str) -> None:
    run_id = store.begin_run("A1", "production")
    store.journal(run_id, "provision", "intent")
    writer.append(draft(ca), run_id=run_id)
    with raw_connection(store) as connection, pytest.raises(sqlite3.IntegrityError, match="refused"):
        connection.execute(statement)


def test_closed_runs_cannot_change(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    run_id = store.begin_run("A1", "production")
    writer.append(draft(ca), run_id=run_id)
    with raw_connection(store) as connection, pytest.raises(sqlite3.IntegrityError, match="closed run"):
        connection.execute("UPDATE runs SET state = 'open'")


def test_the_database_refuses_a_gap_in_the_chain(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    stored = writer.append(draft(ca))
    with (
        raw_connection(store) as connection,
        pytest.raises(sqlite3.IntegrityError, match="seq does not follow"),
    ):
        connection.execute(
            "INSERT INTO records VALUES (?, 3, 'r3', NULL, NULL, 'qa', 'pass', 'now', ?)",
            (STATION, stored.jws),
        )


def test_second_passing_production_record_names_the_first(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    unit = random_unit()
    first = writer.append(draft(ca, unit=unit))
    entry = store.find_production(devid=unit.devid)
    assert entry is not None and (entry.record_id, entry.station_id, entry.seq) == (
        first.record_id,
        STATION,
        1,
    )
    assert store.find_production(genuine_id=unit.genuine_id) == entry
    with pytest.raises(RecordError, match=f"station {STATION}, seq 1, record {first.record_id}"):
        writer.append(draft(ca, unit=unit))
    same_chip = random_unit().__class__(**{**unit.__dict__, "devid": "ffffffffffffffff"})
    with pytest.raises(RecordError, match="already has a passing production record"):
        writer.append(draft(ca, unit=same_chip))  # same secure element under another devid
    failed = writer.append(draft(ca, unit=unit, outcome="fail"))  # failures and QA are not limited
    qa = writer.append(draft(ca, unit=unit, mode="qa"))
    assert (failed.seq, qa.seq) == (2, 3)  # the refused appends consumed no seq
    assert store.find_production(devid="0" * 16) is None
    with pytest.raises(RecordError, match="needs a devid or a genuine_id"):
        store.find_production()


def test_records_filters_and_pages(
    writer: RecordWriter, store: SqliteStore, ca: Ca, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "_PAGE", 3)
    unit = random_unit()
    for index in range(7):
        writer.append(draft(ca, unit=unit if index in (2, 5) else None, outcome="fail"))
    assert [record.seq for record in store.records()] == list(range(1, 8))
    assert [record.seq for record in store.records(devid=unit.devid)] == [3, 6]
    assert list(store.records(station_id="nobody")) == []
    assert store.stations() == [STATION]


def test_writer_refuses_a_key_id_for_another_key(store: SqliteStore, signing_key: Ed25519PrivateKey) -> None:
    with pytest.raises(RecordError, match="does not name"):
        RecordWriter(store, signing_key, "0123456789abcdef", STATION, config_sha256=CONFIG_SHA256)


def test_missing_store_is_not_created_when_reading(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no record store"):
        SqliteStore(tmp_path / "absent.sqlite3", create=False)
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.touch(mode=0o600)
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RecordError, match=r"junk.sqlite3 is not a usable record store"):
        SqliteStore(path)


def test_sixteen_threads_append_one_gapless_chain(
    store: SqliteStore, signing_key: Ed25519PrivateKey, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    threads, per_thread = 16, 6
    stations = ("st-a", "st-b")
    writers = [
        RecordWriter(
            SqliteStore(store.path),
            signing_key,
            key_id(signing_key.public_key()),
            station,
            config_sha256=CONFIG_SHA256,
        )
        for station in stations
    ]
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        start.wait()
        try:
            run_id = store.begin_run(f"S{index}", "production")
            for _ in range(per_thread):
                store.journal(run_id, "provision", "intent", {"thread": index})
                writers[index % 2].append(
                    draft(ca if index % 3 else None, outcome="pass" if index % 3 else "fail")
                )
            store.close_run(run_id, None)
        except BaseException as exc:  # reported below: a thread's exception must fail the test
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    for station in stations:
        assert [r.seq for r in store.records(station_id=station)] == list(
            range(1, threads * per_thread // 2 + 1)
        )
    report = verify_chain((record.jws for record in store.records()), trusted, ca.certificate)
    assert report.ok, report.first
    assert report.stations == {"st-a": 48, "st-b": 48}
    assert verify_store(store, trusted, ca.certificate).ok
    assert store.open_runs() == []


def test_stored_payload_is_the_signed_one(
    writer: RecordWriter, signing_key: Ed25519PrivateKey, ca: Ca
) -> None:
    stored = writer.append(draft(ca))
    assert jws.verify(stored.jws, signing_key.public_key()) == stored.payload
