"""A deleted tail of records is found: by the signed head file, the runs, the sync state, the line database.

Every case first drops the append-only triggers, as someone with the sqlite3 shell and the file can.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.cli.records import cmd_verify
from station.core.errors import RecordError
from station.records import RecordWriter, SqliteStore, StoredRecord, key_id, verify_store
from station.records.head import RECORDS, ChainHead, HeadFile, head_path
from station.records.line.sync import sync
from station.records.model import chain_hash
from station.records.store.postgres import PostgresStore
from tests.records.conftest import STATION
from tests.records.factories import CONFIG_SHA256, Ca, draft

TRIGGERS = ("records_no_delete", "unit_registry_no_delete", "runs_no_delete", "sync_state_no_delete")


def head_of(store: SqliteStore) -> HeadFile:
    return HeadFile(head_path(store.path, RECORDS), RECORDS)


def delete_newest(store: SqliteStore, count: int, *, runs: bool = False) -> None:
    """Delete the newest ``count`` records and their registry rows (and with ``runs`` their runs too)."""
    with closing(sqlite3.connect(store.path, isolation_level=None)) as raw:
        for trigger in TRIGGERS:
            raw.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        (top,) = raw.execute("SELECT MAX(seq) FROM records").fetchone()
        gone = [row[0] for row in raw.execute("SELECT record_id FROM records WHERE seq > ?", (top - count,))]
        for record_id in gone:
            raw.execute("DELETE FROM unit_registry WHERE record_id = ?", (record_id,))
            if runs:
                raw.execute("DELETE FROM runs WHERE record_id = ?", (record_id,))
            raw.execute("DELETE FROM records WHERE record_id = ?", (record_id,))


def verify(store: SqliteStore, trusted: dict[str, Ed25519PublicKey], **line: object) -> tuple[int, str]:
    out = io.StringIO()
    code = cmd_verify(store.path, trusted, None, out=out, err=out, **line)  # type: ignore[arg-type]
    return code, out.getvalue()


@pytest.fixture
def reopen(writer: RecordWriter, signing_key: Ed25519PrivateKey) -> Callable[[], RecordWriter]:
    """The station restarted: a new writer on the same store and key."""
    kid = key_id(signing_key.public_key())
    return lambda: RecordWriter(writer.store, signing_key, kid, STATION, config_sha256=CONFIG_SHA256)


def production(writer: RecordWriter, ca: Ca, count: int) -> list[StoredRecord]:
    """``count`` passing units, each in a run closed by its record, as a station writes them."""
    written = []
    for _ in range(count):
        run_id = writer.store.begin_run(slot="A1", mode="production")
        written.append(writer.append(draft(ca), run_id=run_id))
    return written


def test_an_honest_store_verifies_with_its_head(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    written = production(writer, ca, 3)
    head = head_of(writer.store).verified(trusted)
    assert head is not None and head.chains[STATION].seq == 3
    code, text = verify(writer.store, trusted)
    assert code == 0 and "OK: every record verifies" in text and "note:" not in text, text
    assert written[-1].seq == 3


def test_the_deleted_newest_record_is_named(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    """The issue's case: the newest record and its registry row deleted; before, verify said OK."""
    written = production(writer, ca, 4)
    delete_newest(writer.store, 1)
    code, text = verify(writer.store, trusted)
    assert code == 1, text
    assert "seq 1-3" in text  # what is left still links up
    gap = "the newest record is missing: the head file says seq 4, the store ends at seq 3"
    assert f"station {STATION} seq 4: {gap}" in text
    assert f"record {written[3].record_id}: run " in text and "which is not in the store" in text


def test_ten_deleted_records_with_their_runs_show_in_the_head_alone(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    production(writer, ca, 12)
    delete_newest(writer.store, 10, runs=True)
    report = verify_store(writer.store, trusted)
    assert [str(problem) for problem in report.problems] == [
        f"station {STATION} seq 12: the newest 10 records are missing: the head file says seq 12, "
        "the store ends at seq 2"
    ]


def test_without_the_head_file_the_runs_still_tell(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    written = production(writer, ca, 3)
    delete_newest(writer.store, 1)
    head_of(writer.store).path.unlink()
    report = verify_store(writer.store, trusted)
    (problem,) = report.problems
    assert problem.record_id == written[2].record_id and "closed with this record" in problem.reason
    (note,) = report.notes
    assert note.startswith("no head file") and "written before head files" in note


def test_a_crash_between_the_commit_and_the_head_write_is_a_note(
    writer: RecordWriter,
    reopen: Callable[[], RecordWriter],
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    caplog: pytest.LogCaptureFixture,
) -> None:
    production(writer, ca, 2)
    with pytest.MonkeyPatch.context() as crash:  # the process dies right after the record's COMMIT
        crash.setattr(HeadFile, "write", lambda *args, **kwargs: None)
        production(writer, ca, 1)
    code, text = verify(writer.store, trusted)
    assert code == 0, text
    assert "OK: every record verifies" in text
    assert (
        f"note: station {STATION}: the head file anchors seq 2, one behind the newest record (seq 3)" in text
    )

    with caplog.at_level(logging.INFO, logger="station.records.head"):  # the restarted station catches up
        reopen()
    assert "caught up to seq 3" in caplog.text
    code, text = verify(writer.store, trusted)
    assert code == 0 and "note:" not in text, text


def test_a_head_write_that_fails_is_logged_and_the_record_stays(
    writer: RecordWriter,
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    production(writer, ca, 1)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(HeadFile, "write", disk_full)
    with caplog.at_level(logging.ERROR, logger="station.records.head"):
        written = production(writer, ca, 3)
    assert writer.store.last(STATION) == written[-1]
    assert caplog.text.count("No space left on device") == 3
    report = verify_store(writer.store, trusted)
    assert report.ok and "3 behind the newest record (seq 4): head writes failed" in report.notes[0]


def test_a_head_file_with_a_bad_signature_fails(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    production(writer, ca, 2)
    path = head_of(writer.store).path
    text = path.read_text().strip()
    path.write_text(text[:-3] + ("AAA" if not text.endswith("AAA") else "BBB") + "\n")
    code, out = verify(writer.store, trusted)
    assert code == 1
    assert f"FAILED: first bad record: head file {path}: signature does not verify" in out


def test_a_head_file_signed_by_another_key_fails(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    production(writer, ca, 2)
    forger = Ed25519PrivateKey.generate()
    head_file = head_of(writer.store)
    head = head_file.read()
    assert head is not None
    head_file.write(head.chains, forger, key_id(forger.public_key()))
    report = verify_store(writer.store, trusted)
    assert report.first is not None and "which is not trusted" in report.first.reason


def test_a_wholly_deleted_chain_fails(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    production(writer, ca, 2)
    delete_newest(writer.store, 2, runs=True)
    report = verify_store(writer.store, trusted)
    assert report.checked == 0
    assert [str(problem) for problem in report.problems] == [
        f"station {STATION} seq 2: the newest 2 records are missing: the head file says seq 2, "
        "the store ends at seq 0"
    ]


def test_a_restarted_station_never_overwrites_the_evidence(
    writer: RecordWriter,
    reopen: Callable[[], RecordWriter],
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a deleted tail the station keeps writing records, but the head stays where it was."""
    production(writer, ca, 5)
    delete_newest(writer.store, 3)
    before = head_of(writer.store).path.read_bytes()
    with caplog.at_level(logging.ERROR, logger="station.records.head"):
        again = reopen()
        production(again, ca, 4)  # seq 3 to 6: seq 3 to 5 replace the deleted ones, 6 overtakes the head
    assert head_of(writer.store).path.read_bytes() == before
    assert (
        "the newest 3 records are missing: the head file says seq 5, the store ends at seq 2" in caplog.text
    )
    assert "kept as evidence" in caplog.text and "station records verify" in caplog.text
    report = verify_store(writer.store, trusted)
    assert report.first is not None
    assert "seq 5 is not the entry the head file anchors: the chain was rewritten" in str(report.problems[-1])


def test_a_store_from_before_head_files_gets_one_and_says_so(
    writer: RecordWriter,
    reopen: Callable[[], RecordWriter],
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    caplog: pytest.LogCaptureFixture,
) -> None:
    production(writer, ca, 2)
    head_of(writer.store).path.unlink()
    code, text = verify(writer.store, trusted)
    assert code == 0 and "note: no head file" in text and "the station writes one when it next opens" in text
    with caplog.at_level(logging.WARNING, logger="station.records.head"):
        reopen()
    assert f"had no head for {STATION}; wrote one at seq 2" in caplog.text
    code, text = verify(writer.store, trusted)
    assert code == 0 and "note:" not in text, text


def test_two_stations_in_one_store_share_its_head_file(tmp_path: Path, ca: Ca) -> None:
    store = SqliteStore(tmp_path / "records.sqlite3")
    key = Ed25519PrivateKey.generate()
    trusted = {key_id(key.public_key()): key.public_key()}
    writers = [
        RecordWriter(store, key, key_id(key.public_key()), name, config_sha256=CONFIG_SHA256)
        for name in ("st-a", "st-b")
    ]
    for writer in [*writers, *writers, writers[0]]:
        writer.append(draft(ca, outcome="fail"))
    head = head_of(store).verified(trusted)
    assert head is not None and {name: chain.seq for name, chain in head.chains.items()} == {
        "st-a": 3,
        "st-b": 2,
    }
    assert verify_store(store, trusted).ok


def test_the_line_database_holding_a_later_record_shows_the_deleted_tail(
    writer: RecordWriter,
    signing_key: Ed25519PrivateKey,
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    station_role: str,
) -> None:
    production(writer, ca, 5)
    line = PostgresStore(station_role)
    assert sync(writer.store, line, signing_key.public_key()).sent == 5
    delete_newest(writer.store, 2, runs=True)
    head_of(writer.store).path.unlink()  # the head file went too: the line database still knows
    with closing(sqlite3.connect(writer.store.path, isolation_level=None)) as raw:
        raw.execute("DELETE FROM sync_state WHERE seq > 3")

    code, text = verify(writer.store, trusted, line=line)
    assert code == 1, text
    assert (
        f"station {STATION} seq 5: the newest 2 records are missing: the line database says seq 5, "
        "the store ends at seq 3"
    ) in text
    assert verify(writer.store, trusted)[0] == 0  # without the line database, nothing left could tell


def test_the_sync_state_names_records_the_store_lost(
    writer: RecordWriter,
    signing_key: Ed25519PrivateKey,
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    station_role: str,
) -> None:
    production(writer, ca, 3)
    sync(writer.store, PostgresStore(station_role), signing_key.public_key())
    delete_newest(writer.store, 1, runs=True)
    head_of(writer.store).path.unlink()
    report = verify_store(writer.store, trusted)
    assert [str(problem) for problem in report.problems] == [
        f"station {STATION} seq 3: the sync state says this record was sent, but the store has no such record"
    ]


def test_an_unreachable_line_database_is_a_note(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    production(writer, ca, 1)
    down = PostgresStore("postgresql://station@127.0.0.1:1/line", connect_timeout=1)
    code, text = verify(writer.store, trusted, line=down)
    assert code == 0 and "note: the line database was not reached" in text


def test_a_record_whose_transaction_rolls_back_never_moves_the_head(
    writer: RecordWriter, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    (first,) = production(writer, ca, 1)
    before = head_of(writer.store).path.read_bytes()
    closed = writer.store.begin_run(slot="A1", mode="production")
    writer.store.close_run(closed, None)
    with pytest.raises(RecordError, match="already closed"):  # found after the record's INSERT
        writer.append(draft(ca, outcome="fail"), run_id=closed)
    assert writer.store.last(STATION) == first
    assert head_of(writer.store).path.read_bytes() == before
    assert verify_store(writer.store, trusted).notes == ()


def test_the_sync_says_when_the_line_holds_records_the_store_lost(
    writer: RecordWriter, signing_key: Ed25519PrivateKey, ca: Ca, station_role: str
) -> None:
    production(writer, ca, 4)
    line = PostgresStore(station_role)
    assert sync(writer.store, line, signing_key.public_key()).ok
    delete_newest(writer.store, 2, runs=True)
    report = sync(writer.store, line, signing_key.public_key())
    assert not report.ok and report.refused == []
    assert report.missing == [
        f"station {STATION}: the line database holds records up to seq 4, this store ends at seq 2: its "
        "newest 2 record(s) are missing (run station records verify)"
    ]


def test_a_forged_head_that_fits_the_truncated_store_is_kept_as_evidence(
    writer: RecordWriter,
    reopen: Callable[[], RecordWriter],
    trusted: dict[str, Ed25519PublicKey],
    ca: Ca,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the key a vandal cannot sign a head; a restarted station must not sign one for them."""
    written = production(writer, ca, 5)
    delete_newest(writer.store, 2, runs=True)
    head_file = head_of(writer.store)
    own_header = head_file.path.read_text().split(".")[0]
    forger = Ed25519PrivateKey.generate()
    head_file.write({STATION: ChainHead(3, chain_hash(written[2].jws))}, forger, key_id(forger.public_key()))
    _, payload, signature = head_file.path.read_text().strip().split(".")
    head_file.path.write_text(f"{own_header}.{payload}.{signature}\n")  # claims the station's key
    forged = head_file.path.read_bytes()
    with caplog.at_level(logging.ERROR, logger="station.records.head"):
        production(reopen(), ca, 1)
    assert head_file.path.read_bytes() == forged
    assert "signature does not verify" in caplog.text and "kept as evidence" in caplog.text
    report = verify_store(writer.store, trusted)
    assert report.first is not None and "signature does not verify" in report.first.reason
