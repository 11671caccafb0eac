"""The audit log's deleted tail is found through its signed head file (``records.audit-head``)."""

from __future__ import annotations

import argparse
import io
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.access.audit import AuditLog, read_audit
from station.access.auditverify import verify_audit_log
from station.access.pins import Pin
from station.access.users import UserStore
from station.app.data import StationData
from station.cli.audit import audit_verify
from station.core.errors import LoginRefused
from station.core.operator import Operator
from station.records.head import AUDIT, HeadFile, head_path
from station.records.store.sqlite import SqliteStore

OPERATOR = Operator("B0042", "operator")


def head_of(store: SqliteStore) -> HeadFile:
    return HeadFile(head_path(store.path, AUDIT), AUDIT)


def wrong_pins(users: UserStore, count: int) -> None:
    for _ in range(count):
        with pytest.raises(LoginRefused):
            users.authenticate("B0042", Pin("000000"))


def delete_newest(store: SqliteStore, count: int) -> None:
    with closing(sqlite3.connect(store.path, isolation_level=None)) as raw:
        raw.execute("DROP TRIGGER audit_log_no_delete")
        raw.execute("DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) FROM audit_log) - ?", (count,))


def test_ten_deleted_failed_logins_are_found(
    users: UserStore, admin: Operator, trusted: dict[str, Ed25519PublicKey]
) -> None:
    """The issue's case: the newest ten entries (failed logins) deleted; before, audit verify said OK."""
    wrong_pins(users, 10)
    last = read_audit(users.store)[-1].seq
    assert verify_audit_log(users.store, trusted).ok
    delete_newest(users.store, 10)
    report = verify_audit_log(users.store, trusted)
    assert [str(problem) for problem in report.problems] == [
        f"seq {last}: the newest 10 audit entries are missing: the head file says seq {last}, "
        f"the log ends at seq {last - 10}"
    ]


def test_audit_verify_fails_on_a_deleted_tail(tmp_path: Path) -> None:
    data = StationData.open(None, data_dir=tmp_path / "data", create=True)
    log = AuditLog(data.store(), data.signing_key())
    for index in range(4):
        log.append(OPERATOR, "label-reprint", detail={"devid": f"{index:016x}"})
    out = io.StringIO()
    assert audit_verify(argparse.Namespace(), data, out=out) == 0, out.getvalue()
    delete_newest(log.store, 1)
    out = io.StringIO()
    assert audit_verify(argparse.Namespace(), data, out=out) == 1
    assert "FAILED: first broken entry: seq 4: the newest audit entry is missing" in out.getvalue()


def test_a_crash_between_the_commit_and_the_head_write_is_a_note(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], caplog: pytest.LogCaptureFixture
) -> None:
    audit.append(OPERATOR, "label-reprint", detail={"devid": "00"})
    with pytest.MonkeyPatch.context() as crash:  # the process dies right after the entry's COMMIT
        crash.setattr(HeadFile, "write", lambda *args, **kwargs: None)
        audit.append(OPERATOR, "label-reprint", detail={"devid": "01"})
    report = verify_audit_log(audit.store, trusted)
    assert report.ok
    assert report.notes == (
        "the head file anchors seq 1, one behind the newest audit entry (seq 2): the station stopped between "
        "the commit of that entry and its head write (the next entry catches up)",
    )
    with caplog.at_level(logging.INFO, logger="station.records.head"):
        AuditLog(audit.store, Ed25519PrivateKey.generate())  # a restart (any key: the head is consistent)
    assert "caught up to seq 2" in caplog.text


def test_an_entry_whose_transaction_rolls_back_never_moves_the_head(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey]
) -> None:
    audit.append(OPERATOR, "label-reprint", detail={"devid": "00"})
    before = head_of(audit.store).path.read_bytes()
    with pytest.raises(RuntimeError), audit.store.write() as connection:
        audit.append_in(connection, OPERATOR, "label-reprint", detail={"devid": "01"})
        raise RuntimeError("the change this entry records failed")
    assert head_of(audit.store).path.read_bytes() == before
    report = verify_audit_log(audit.store, trusted)
    assert report.ok and report.notes == () and report.last_seq == 1


def test_entries_appended_inside_a_callers_transaction_are_anchored_after_it(
    users: UserStore, admin: Operator, trusted: dict[str, Ed25519PublicKey]
) -> None:
    users.authenticate("B0042", Pin("905172"))  # the login entry is written in the login's transaction
    head = head_of(users.store).verified(trusted)
    assert head is not None and head.chains[AUDIT].seq == read_audit(users.store)[-1].seq


def test_a_tampered_head_file_fails(audit: AuditLog, trusted: dict[str, Ed25519PublicKey]) -> None:
    audit.append(OPERATOR, "label-reprint", detail={"devid": "00"})
    path = head_of(audit.store).path
    header, payload, signature = path.read_text().strip().split(".")
    path.write_text(f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}\n")
    report = verify_audit_log(audit.store, trusted)
    assert report.first is not None and "signature does not verify" in report.first.reason


def test_the_records_head_cannot_stand_in_for_the_audit_head(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], signing_key: Ed25519PrivateKey
) -> None:
    audit.append(OPERATOR, "label-reprint", detail={"devid": "00"})
    head = head_of(audit.store).read()
    assert head is not None
    records_head = HeadFile(head_path(audit.store.path, "records"), "records")
    records_head.write(head.chains, signing_key, audit.key_id)
    head_of(audit.store).path.write_bytes(records_head.path.read_bytes())
    report = verify_audit_log(audit.store, trusted)
    assert report.first is not None and "anchors the 'records' log, not 'audit'" in report.first.reason


def test_a_log_without_a_head_file_is_a_note_until_the_log_is_opened(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], signing_key: Ed25519PrivateKey
) -> None:
    for index in range(3):
        audit.append(OPERATOR, "label-reprint", detail={"devid": f"{index:02x}"})
    head_of(audit.store).path.unlink()
    report = verify_audit_log(audit.store, trusted)
    assert report.ok and report.notes[0].startswith("no audit head file")
    AuditLog(audit.store, signing_key)
    assert verify_audit_log(audit.store, trusted).notes == ()
