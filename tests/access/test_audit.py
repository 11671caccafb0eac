"""The station audit log: signed and chained, append-only in the database, tampering found and named."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.access.audit import AUDIT_SCHEMA, AuditLog, read_audit
from station.access.auditverify import verify_audit
from station.core.codec import b64url_encode
from station.core.errors import RecordError
from station.core.operator import Operator
from station.records import jws
from station.records.canonical import canonical_json
from station.records.model import GENESIS_PREV, chain_hash
from station.records.store.sqlite import SqliteStore
from station.records.validate import validate_payload

OPERATOR = Operator("B0042", "operator")


def fill(audit: AuditLog, count: int = 5) -> None:
    for index in range(count):
        audit.append(OPERATOR, "label-reprint", detail={"devid": f"{index:016x}"})


def test_entries_are_signed_and_chained(audit: AuditLog, trusted: dict[str, Ed25519PublicKey]) -> None:
    fill(audit, 3)
    entries = read_audit(audit.store)
    payloads = [jws.verify(entry.jws, trusted[audit.key_id]) for entry in entries]
    assert [payload["seq"] for payload in payloads] == [1, 2, 3]
    assert payloads[0]["prev"] == GENESIS_PREV
    assert payloads[2]["prev"] == chain_hash(entries[1].jws)
    assert payloads[0]["schema"] == AUDIT_SCHEMA
    assert payloads[0]["actor"] == {"id": "B0042", "role": "operator"}
    assert payloads[0]["time"] == "2025-03-04T05:06:07.000Z" == entries[0].time
    report = verify_audit(entries, trusted)
    assert report.ok and report.checked == 3 and report.last_seq == 3


def test_an_audit_entry_can_never_pass_for_a_record(audit: AuditLog) -> None:
    fill(audit, 1)
    with pytest.raises(RecordError, match="schema"):
        validate_payload(jws.peek(read_audit(audit.store)[0].jws)[1])


def test_the_database_refuses_update_delete_and_gaps(audit: AuditLog) -> None:
    fill(audit, 2)
    with audit.store.connect() as connection:
        for statement, refusal in (
            ("UPDATE audit_log SET action = 'login' WHERE seq = 1", "UPDATE refused"),
            ("DELETE FROM audit_log WHERE seq = 2", "DELETE refused"),
            ("INSERT INTO audit_log VALUES (4, 't', NULL, NULL, 'login', 'ok', 'x')", "does not follow"),
        ):
            with pytest.raises(sqlite3.IntegrityError, match=refusal):
                connection.execute(statement)
    assert [entry.seq for entry in read_audit(audit.store)] == [1, 2]


def tampered_copy(store: SqliteStore, tmp_path: Path, statement: str, *values: object) -> SqliteStore:
    """A copy of the store with the audit triggers dropped and ``statements`` run: what a vandal does."""
    copy = tmp_path / "copy" / store.path.name
    copy.parent.mkdir()
    shutil.copy(store.path, copy)
    with sqlite3.connect(copy) as connection:
        for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_log_gapless"):
            connection.execute(f"DROP TRIGGER {trigger}")
        connection.execute(statement, values)
    return SqliteStore(copy, create=False)


def forged(entry_jws: str, key: Ed25519PrivateKey, **changes: object) -> str:
    """``entry_jws`` with its payload changed and re-signed by ``key``."""
    payload = {**jws.peek(entry_jws)[1], **changes}
    return jws.sign(payload, key, jws.key_id(key.public_key()))


def test_an_edited_entry_is_found_and_named(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], tmp_path: Path
) -> None:
    fill(audit)
    text = read_audit(audit.store)[2].jws
    header, _, signature = text.split(".")
    changed = b64url_encode(canonical_json({**jws.peek(text)[1], "outcome": "failed"}))
    copy = tampered_copy(
        audit.store, tmp_path, "UPDATE audit_log SET jws = ? WHERE seq = 3", f"{header}.{changed}.{signature}"
    )
    report = verify_audit(read_audit(copy), trusted)
    assert str(report.first) == "seq 3: signature does not verify with key " + audit.key_id
    assert [problem.seq for problem in report.problems] == [3, 4]  # and the link after it
    assert "chain broken" in report.problems[1].reason


def test_an_entry_re_signed_by_another_key_is_found(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], tmp_path: Path
) -> None:
    fill(audit)
    vandal = Ed25519PrivateKey.generate()
    text = forged(read_audit(audit.store)[1].jws, vandal, outcome="refused")
    copy = tampered_copy(audit.store, tmp_path, "UPDATE audit_log SET jws = ? WHERE seq = 2", text)
    report = verify_audit(read_audit(copy), trusted)
    assert report.first is not None and report.first.seq == 2
    assert "not trusted" in report.first.reason


def test_an_edited_column_is_found(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], tmp_path: Path
) -> None:
    fill(audit)
    copy = tampered_copy(audit.store, tmp_path, "UPDATE audit_log SET actor_id = 'A0001' WHERE seq = 4")
    report = verify_audit(read_audit(copy), trusted)
    assert str(report.first) == "seq 4: stored actor id differ from the signed entry"


def test_a_deleted_entry_is_found(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], tmp_path: Path
) -> None:
    fill(audit)
    copy = tampered_copy(audit.store, tmp_path, "DELETE FROM audit_log WHERE seq = 2")
    report = verify_audit(read_audit(copy), trusted)
    assert str(report.first) == "seq 3: seq 3 does not follow 1 (entries missing)"


def test_a_rebuilt_chain_signed_by_another_key_is_not_trusted(
    audit: AuditLog, trusted: dict[str, Ed25519PublicKey], tmp_path: Path
) -> None:
    fill(audit, 2)
    vandal_log = AuditLog(SqliteStore(tmp_path / "other.sqlite3"), Ed25519PrivateKey.generate())
    fill(vandal_log, 2)
    report = verify_audit(read_audit(vandal_log.store), trusted)
    assert [problem.seq for problem in report.problems] == [1, 2]


def test_detail_holds_public_values_only(audit: AuditLog) -> None:
    for detail in ({"pin": "482913"}, {"new_pin": "1"}, {"user": {"passphrase": "x"}}, {"privateKey": "x"}):
        with pytest.raises(ValueError, match="names a secret"):
            audit.append(OPERATOR, "user-pin-change", detail=detail)
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.append(OPERATOR, "pin-shown")
    assert read_audit(audit.store) == []
    audit.append(OPERATOR, "config-change", detail={"spinner": "on", "pinned": True})  # words, not secrets


def test_read_audit_last(audit: AuditLog) -> None:
    fill(audit, 5)
    assert [entry.seq for entry in read_audit(audit.store, last=2)] == [4, 5]
    assert [entry.seq for entry in read_audit(audit.store, last=9)] == [1, 2, 3, 4, 5]
