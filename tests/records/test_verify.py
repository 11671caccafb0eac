"""``records verify``: a tampered byte, an unknown key, a broken chain, a foreign certificate, each named."""

from __future__ import annotations

import io
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.cli.records import cmd_verify
from station.records import (
    Problem,
    RecordWriter,
    SqliteStore,
    StoredRecord,
    key_id,
    verify_chain,
    verify_store,
)
from station.records import jws as jws_module
from station.records.model import build_payload, chain_hash
from tests.records.conftest import STATION
from tests.records.factories import CONFIG_SHA256, Ca, draft, make_ca

TRIGGERS = ("records_no_update", "records_no_delete", "unit_registry_no_update", "unit_registry_no_delete")


@dataclass(frozen=True)
class World:
    """A store holding four records (pass, fail, pass, QA), and what is needed to check or forge them."""

    store: SqliteStore
    writer: RecordWriter
    signing_key: Ed25519PrivateKey
    trusted: dict[str, Ed25519PublicKey]
    ca: Ca
    chain: list[StoredRecord]
    folder: Path

    def tampered_copy(self, *statements: tuple[str, tuple[object, ...]]) -> Path:
        """A copy of the store changed behind the triggers' back, as someone with the file could."""
        copy = self.folder / f"tampered-{uuid.uuid4().hex[:8]}.sqlite3"
        copy.touch(mode=0o600)  # as private as the store (the station refuses a store others can read)
        with sqlite3.connect(self.store.path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        with sqlite3.connect(copy) as raw:
            for trigger in TRIGGERS:
                raw.execute(f"DROP TRIGGER {trigger}")
            for sql, parameters in statements:
                raw.execute(sql, parameters)
        return copy

    def run_verify(self, path: Path) -> tuple[int, str]:
        out = io.StringIO()
        code = cmd_verify(path, self.trusted, self.ca.certificate, out=out, err=out)
        return code, out.getvalue()

    def report(self, path: Path, ca: Ca | None = None) -> Problem:
        report = verify_store(SqliteStore(path, create=False), self.trusted, (ca or self.ca).certificate)
        assert report.first is not None
        return report.first


@pytest.fixture
def world(writer: RecordWriter, signing_key: Ed25519PrivateKey, ca: Ca, tmp_path: Path) -> World:
    chain = [
        writer.append(draft(ca)),
        writer.append(draft(ca, outcome="fail")),
        writer.append(draft(ca)),
        writer.append(draft(ca, mode="qa")),
    ]
    trusted = {key_id(signing_key.public_key()): signing_key.public_key()}
    return World(writer.store, writer, signing_key, trusted, ca, chain, tmp_path)


def flip(text: str, position: int) -> str:
    replacement = "B" if text[position] != "B" else "C"
    return text[:position] + replacement + text[position + 1 :]


def test_an_honest_store_verifies(world: World) -> None:
    code, text = world.run_verify(world.store.path)
    assert code == 0, text
    assert "checked 4 records" in text and f"{STATION} seq 1-4" in text and "OK" in text


@pytest.mark.parametrize("part", [0, 1, 2])  # header, payload, signature
def test_one_changed_byte_names_that_record(world: World, part: int) -> None:
    victim = world.chain[1]
    segments = victim.jws.split(".")
    position = sum(len(segment) + 1 for segment in segments[:part]) + len(segments[part]) // 2
    copy = world.tampered_copy(("UPDATE records SET jws = ? WHERE seq = 2", (flip(victim.jws, position),)))
    code, text = world.run_verify(copy)
    assert code == 1
    assert f"first bad record: station {STATION} seq 2 record {victim.record_id}:" in text
    assert f"also: station {STATION} seq 3 record {world.chain[2].record_id}: prev does not match" in text
    assert world.run_verify(world.store.path)[0] == 0  # the original is untouched


def test_any_changed_character_is_caught(world: World) -> None:
    texts = [record.jws for record in world.chain]
    for position in range(0, len(texts[2]), 5):
        changed = [*texts[:2], flip(texts[2], position), texts[3]]
        report = verify_chain(changed, world.trusted, world.ca.certificate)
        assert report.first is not None and report.first.index == 2, position


def test_a_record_signed_by_an_unknown_key(world: World) -> None:
    copy = world.tampered_copy()
    rogue_key = Ed25519PrivateKey.generate()
    rogue_id = key_id(rogue_key.public_key())
    rogue = RecordWriter(SqliteStore(copy), rogue_key, rogue_id, STATION, config_sha256=CONFIG_SHA256)
    forged = rogue.append(draft(world.ca))
    code, text = world.run_verify(copy)
    assert code == 1
    named = f"station {STATION} seq 5 record {forged.record_id}"
    assert f"first bad record: {named}: signed by unknown key {rogue_id}" in text


def test_a_missing_record_breaks_the_chain(world: World) -> None:
    code, text = world.run_verify(world.tampered_copy(("DELETE FROM records WHERE seq = 2", ())))
    assert code == 1
    named = f"station {STATION} seq 3 record {world.chain[2].record_id}"
    assert f"first bad record: {named}: seq 3 where 2 was expected (record 2 missing)" in text


def test_a_wrong_prev_breaks_the_chain(world: World) -> None:
    """Even the station's own key cannot splice a record in: its prev must name the real predecessor."""
    record_id = str(uuid.uuid4())
    payload = build_payload(
        draft(world.ca, outcome="fail"),
        station=world.writer.station,
        seq=5,
        prev=chain_hash(world.chain[2].jws),
        record_id=record_id,
    )
    text = jws_module.sign(payload, world.signing_key, world.writer.station.key_id)
    insert = "INSERT INTO records VALUES (?, 5, ?, NULL, NULL, 'production', 'fail', 'now', ?)"
    code, out = world.run_verify(world.tampered_copy((insert, (STATION, record_id, text))))
    assert code == 1
    assert f"first bad record: station {STATION} seq 5 record {record_id}: prev does not match" in out


def test_records_out_of_order_are_named(world: World) -> None:
    chain = world.chain
    report = verify_chain([chain[0].jws, chain[2].jws, chain[1].jws, chain[3].jws], world.trusted)
    assert report.first is not None
    assert (report.first.seq, report.first.record_id) == (3, chain[2].record_id)
    assert "seq 3 where 2 was expected" in report.first.reason


def test_a_certificate_from_another_ca(world: World) -> None:
    first = world.report(world.store.path, ca=make_ca("Somebody Else's CA"))
    assert first.seq == 1 and "is not issued by the factory CA" in first.reason
    assert verify_store(world.store, world.trusted, None).ok  # no CA: the certificate only matches the record


def test_a_changed_index_column_is_named(world: World) -> None:
    first = world.report(world.tampered_copy(("UPDATE records SET outcome = 'pass' WHERE seq = 2", ())))
    assert (first.seq, first.reason) == (2, "stored column outcome differs from the signed record")


def test_a_removed_registry_entry_is_named(world: World) -> None:
    first = world.report(world.tampered_copy(("DELETE FROM unit_registry WHERE seq = 3", ())))
    assert first.record_id == world.chain[2].record_id
    assert first.reason == "passing production record has no unit registry entry"


def test_unreadable_text_is_still_named_from_the_store(world: World) -> None:
    first = world.report(
        world.tampered_copy(("UPDATE records SET jws = CAST(x'ff00' AS TEXT) WHERE seq = 1", ()))
    )
    assert (first.station, first.seq, first.record_id) == (STATION, 1, world.chain[0].record_id)
    assert first.reason.startswith("malformed JWS")
    anonymous = verify_chain(["not a jws"], world.trusted)
    assert anonymous.first is not None and anonymous.first.station is None and anonymous.first.index == 0


def test_first_record_must_start_from_zeros(world: World) -> None:
    station = world.writer.station
    payload = build_payload(
        draft(world.ca), station=station, seq=1, prev="ab" * 32, record_id=str(uuid.uuid4())
    )
    report = verify_chain([jws_module.sign(payload, world.signing_key, station.key_id)], world.trusted)
    assert report.first is not None and report.first.reason == "first record's prev is not 64 zeros"
