"""Verifying on every core gives the one-process answer: the same problems, named the same, in order;
and the worker's untyped road through a record gives the typed road's verdict."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.records import SqliteStore, jws, trusted_keys_from, verify_store
from station.records.canonical import canonical_json
from station.records.check import fanout
from station.records.check.chain import CertificateCache, check_record
from station.records.model import GENESIS_PREV, SOFTWARE, StationInfo, build_payload
from tests.records.chains import write_chain
from tests.records.factories import CONFIG_SHA256, draft, make_ca
from tests.records.test_verify import TRIGGERS

STATION = "fan-st01"
SET_JWS = "UPDATE records SET jws = ? WHERE station_id = ? AND seq = ?"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes from the 50th record on, 40 records a task: many chunks from a short chain."""
    monkeypatch.setattr(fanout, "FANOUT_AFTER", 50)
    monkeypatch.setattr(fanout, "CHUNK", 40)


def tampered(store: SqliteStore, folder: Path, *statements: tuple[str, tuple[Any, ...]]) -> SqliteStore:
    copy = folder / f"tampered-{uuid.uuid4().hex[:8]}.sqlite3"
    copy.touch(mode=0o600)
    with sqlite3.connect(store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as raw:
        for trigger in TRIGGERS:
            raw.execute(f"DROP TRIGGER {trigger}")
        for sql, parameters in statements:
            raw.execute(sql, parameters)
    return SqliteStore(copy)


def flipped(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.usefixtures("small_chunks")
def test_fanned_out_verification_reports_exactly_what_one_process_reports(tmp_path: Path) -> None:
    key, ca, other_ca = Ed25519PrivateKey.generate(), make_ca(), make_ca()
    trusted = trusted_keys_from([key.public_key()])
    store = SqliteStore(tmp_path / "records.sqlite3")
    write_chain(store, key, STATION, 300, ca=ca, passing_every=4)
    write_chain(store, Ed25519PrivateKey.generate(), "fan-st02", 120)  # a station signing with an unknown key
    text_of = {record.seq: record.jws for record in store.records(station_id=STATION)}
    damaged = tampered(
        store,
        tmp_path,
        (
            "UPDATE records SET jws = ? WHERE station_id = ? AND seq = 70",
            (flipped(text_of[70], 200), STATION),
        ),
        ("UPDATE records SET jws = ? WHERE station_id = ? AND seq = 71", (flipped(text_of[71], 40), STATION)),
        ("UPDATE records SET jws = ? WHERE station_id = ? AND seq = 72", ("not.a.record", STATION)),
        ("DELETE FROM records WHERE station_id = ? AND seq = 150", (STATION,)),
        ("UPDATE records SET mode = 'qa' WHERE station_id = ? AND seq = 202", (STATION,)),
        ("DELETE FROM unit_registry WHERE station_id = ? AND seq = 241", (STATION,)),
        (SET_JWS, (text_of[298], STATION, 299)),
    )
    for checked, against in ((store, ca), (damaged, ca), (damaged, other_ca)):
        alone = verify_store(checked, trusted, against.certificate, workers=1)
        together = verify_store(checked, trusted, against.certificate, workers=2)
        assert together == alone
        assert together.checked == alone.checked > 400
    honest = verify_store(store, trusted, ca.certificate, workers=2)
    assert {problem.station for problem in honest.problems} == {"fan-st02"}  # only the unknown key's
    assert len(verify_store(damaged, trusted, other_ca.certificate, workers=2).problems) > 80


def test_the_untyped_road_gives_the_typed_verdict_on_broken_payloads() -> None:
    """Each field of a passing and a failing record removed, nulled or given a wrong type, then signed:
    the verdict (reason, facts, identity) is the same with and without ``RecordPayload``."""
    key, ca = Ed25519PrivateKey.generate(), make_ca()
    kid = jws.key_id(key.public_key())
    trusted = trusted_keys_from([key.public_key()])
    station = StationInfo(STATION, SOFTWARE, CONFIG_SHA256, kid)
    outcomes = set()
    for passing in (True, False):
        made = draft(ca if passing else None, outcome="pass" if passing else "fail")
        base = build_payload(made, station=station, seq=1, prev=GENESIS_PREV, record_id=str(uuid.uuid4()))
        for variant in variants(base):
            text = sign_raw(variant, key, kid)
            typed, record = check_record(text, trusted, CertificateCache(ca.certificate))
            untyped, _ = check_record(text, trusted, CertificateCache(ca.certificate), typed=False)
            assert untyped == typed, variant
            outcomes.add(typed.reason is None)
            if record is not None and typed.reason is None:
                assert typed.facts is not None and typed.facts.station_id == record.station.id
    assert outcomes == {True, False}


def variants(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = [payload]
    for path in paths(payload):
        changes: tuple[Any, ...] = ("drop", None, 7, True, "x", [], {})
        for change in changes:
            copy = _copy(payload)
            *parents, last = path
            holder: Any = copy
            for step in parents:
                holder = holder[step]
            if change == "drop":
                if isinstance(holder, dict):
                    del holder[last]
                else:
                    continue
            else:
                holder[last] = change
            found.append(copy)
    return found


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.append((*prefix, key))
        found += paths(item, (*prefix, key))
    return found


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def sign_raw(payload: dict[str, Any], key: Ed25519PrivateKey, kid: str) -> str:
    header = canonical_json({"alg": jws.ALG, "kid": kid, "typ": jws.TYP})
    return jws.compact_sign(header, canonical_json(payload), key)


@pytest.mark.usefixtures("small_chunks")
def test_workers_that_fail_leave_the_checking_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Workers that cannot start (here: handed a key they cannot load) break the pool; the records are
    then checked here, and the report is the same."""
    key, ca = Ed25519PrivateKey.generate(), make_ca()
    trusted = trusted_keys_from([key.public_key()])
    store = SqliteStore(tmp_path / "records.sqlite3")
    write_chain(store, key, STATION, 200, ca=ca, passing_every=4)
    expected = verify_store(store, trusted, ca.certificate, workers=1)
    monkeypatch.setattr(fanout, "ed25519_public_raw", lambda _: b"not a key")
    assert verify_store(store, trusted, ca.certificate, workers=2) == expected
    assert "the worker processes failed" in caplog.text
