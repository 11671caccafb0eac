"""``records show``: a readable record with steps, failure, certificate and its own verification."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.cli.records import cmd_show
from station.records import Links, RecordWriter, SqliteStore
from tests.records.conftest import STATION
from tests.records.factories import T0, Ca, draft, evidence, random_unit

CIPHERTEXT = "hpke-sealed-ciphertext-AAAA"


def show(
    path: Path, what: str, trusted: dict[str, Ed25519PublicKey] | None, ca: Ca | None
) -> tuple[int, str]:
    out = io.StringIO()
    code = cmd_show(
        path, what, trusted_keys=trusted, ca=None if ca is None else ca.certificate, out=out, err=out
    )
    return code, out.getvalue()


def test_show_one_record(
    writer: RecordWriter, store: SqliteStore, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    unit = random_unit()
    sealed = {"passphrase": CIPHERTEXT, "mnemonic": CIPHERTEXT}
    stored = writer.append(
        draft(ca, unit=unit, personalization={"profile": "default", "sealed_secrets": sealed})
    )
    code, text = show(store.path, stored.record_id, trusted, ca)
    assert code == 0, text
    for expected in [
        f"record {stored.record_id} (station {STATION}, seq 1)",
        "mode production, outcome PASS, simulated unit",
        f"unit\n  devid        {unit.devid}\n  genuine_id   {unit.genuine_id}\n  eid ",
        "provision        pass     1 attempt(s)     0.750 s",
        f"subject CN=\\#{unit.genuine_id}",  # RFC 4514 escapes a leading #
        "issuer  CN=Test Factory CA",
        "sealed secrets     mnemonic, passphrase (sealed to the escrow key)",
        f"signature    valid (key {writer.station.key_id})",
        "chain        first record of the station",
        "certificate  issued by the factory CA",
    ]:
        assert expected in text
    assert CIPHERTEXT not in text


def test_show_every_record_of_a_unit_with_failure(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    unit = random_unit()
    writer.append(draft(ca, unit=unit, outcome="fail"))
    writer.append(draft(ca, unit=unit))
    code, text = show(store.path, unit.devid or "", None, None)
    assert code == 0
    assert [line[:7] for line in text.splitlines() if line.startswith("record ")] == ["record "] * 2
    assert "step provision, code HTTP 500: device failed" in text
    assert "chain        links to seq 1" in text
    assert "signature    not checked (no trusted keys given)" in text
    assert "issuer not checked (no CA given)" in text


def test_show_a_tampered_record_fails(
    writer: RecordWriter, store: SqliteStore, trusted: dict[str, Ed25519PublicKey], ca: Ca, tmp_path: Path
) -> None:
    stored = writer.append(draft(ca))
    with sqlite3.connect(store.path) as raw:
        raw.execute("DROP TRIGGER records_no_update")
        middle = len(stored.jws) - 40  # inside the signature, whose last digits can be all zero bits
        changed = stored.jws[:middle] + ("B" if stored.jws[middle] != "B" else "C") + stored.jws[middle + 1 :]
        raw.execute("UPDATE records SET jws = ? WHERE seq = 1", (changed,))
    code, text = show(store.path, stored.record_id, trusted, ca)
    assert code == 1
    assert "signature    FAILED" in text


def test_show_names_what_it_could_not_find(store: SqliteStore) -> None:
    code, text = show(store.path, "0000000000000000", None, None)
    assert code == 1
    assert "no record with record id, devid or genuine id '0000000000000000'" in text


def test_show_a_record_whose_payload_no_longer_decodes(
    writer: RecordWriter, store: SqliteStore, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    stored = writer.append(draft(ca))
    with sqlite3.connect(store.path) as raw:
        raw.execute("DROP TRIGGER records_no_update")
        raw.execute("UPDATE records SET jws = 'not.a.jws' WHERE seq = 1")
    code, text = show(store.path, stored.record_id, trusted, ca)
    assert code == 1, text
    assert f"record {stored.record_id} (station {STATION}, seq 1)" in text  # the stored columns still show
    assert f"chain        FAILED: record {stored.record_id}: schema is missing" in text


def test_show_a_unit_lists_its_records_newest_first_and_marks_the_current_one(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    unit = random_unit()
    made = writer.append(draft(ca, unit=unit))  # finished at T0 + 5 s
    later = [timedelta(hours=hours) for hours in (1, 2, 3)]
    repaired = writer.append(
        replace(
            draft(ca, unit=unit, mode="rma"), finished=T0 + later[0], links=Links(supersedes=made.record_id)
        )
    )
    checked = writer.append(replace(draft(ca, unit=unit, mode="qa"), finished=T0 + later[1]))
    failed = writer.append(replace(draft(ca, unit=unit, mode="rma", outcome="fail"), finished=T0 + later[2]))

    for what in (unit.devid or "", unit.genuine_id or ""):  # by devid, or by the secure element's serial
        code, text = show(store.path, what, None, None)
        assert code == 0, text
        headings = [line for line in text.splitlines() if line.startswith("record ")]
        order = [failed, checked, repaired, made]  # newest first: what the unit is now comes before history
        assert [heading.split()[1] for heading in headings] == [record.record_id for record in order]
        assert [heading.endswith("[CURRENT]") for heading in headings] == [False, False, True, False]
        assert text.splitlines()[0] == (
            f"unit {what}: 4 record(s), newest first; current record {repaired.record_id} "
            "(its newest passing production or RMA record)"
        )
        assert f"superseded by {repaired.record_id}" in text.split(f"record {made.record_id}")[1]

    code, text = show(store.path, made.record_id, None, None)  # one record by its id: no list, no mark
    assert code == 0 and "[CURRENT]" not in text and "newest first" not in text


def test_show_a_unit_without_a_passing_record_says_it_has_no_current_one(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    unit = random_unit()
    writer.append(draft(ca, unit=unit, outcome="fail"))
    code, text = show(store.path, unit.devid or "", None, None)
    assert code == 0
    assert "no current record (no passing production or RMA record)" in text.splitlines()[0]
    assert "[CURRENT]" not in text


def test_show_says_when_a_certificate_was_issued_but_never_read_back(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    unit = random_unit()
    sent = replace(evidence(ca, unit), refusal_status=None, confirmed=False)
    stored = writer.append(replace(draft(ca, unit=unit, outcome="error"), provisioning=sent))
    code, text = show(store.path, stored.record_id, None, ca)
    assert code == 0, text
    assert "certificate (issued, not confirmed: never read back from the unit)" in text
    assert "certificate  issued by the factory CA" in text
