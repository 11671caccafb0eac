"""``records show`` prints a record's values escaped: a unit's string read back from a record (one
written before the station checked device strings, or by another station) cannot forge a line or run an
escape code on the terminal. The record itself keeps the exact value."""

from __future__ import annotations

import dataclasses
import io
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.cli.records import cmd_show
from station.records import RecordWriter, SqliteStore
from tests.records.factories import Ca, draft, random_unit

FORGED = "PPA rev 2.2\x1b[31m\n  N1  PASS  fakefakefake  record spoofed\x1b[0m"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_a_hostile_value_in_a_record_is_shown_escaped(
    writer: RecordWriter, store: SqliteStore, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    unit = dataclasses.replace(random_unit(), hwv=FORGED)
    stored = writer.append(draft(ca, unit=unit))
    assert stored.payload["unit"]["hwv"] == FORGED  # the record keeps the exact value
    out = io.StringIO()
    assert (
        cmd_show(store.path, stored.record_id, trusted_keys=trusted, ca=ca.certificate, out=out, err=out) == 0
    )
    text = out.getvalue()
    assert CONTROL.search(text) is None
    assert "hwv          PPA rev 2.2\\x1b[31m\\n  N1  PASS  fakefakefake  record spoofed\\x1b[0m" in text
    assert not any(line.lstrip().startswith("N1  PASS") for line in text.splitlines())
