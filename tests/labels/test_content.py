"""Label fields from a record payload, the QR payload format, and which records get a label."""

from __future__ import annotations

from dataclasses import replace

import pytest

from station.core.errors import LabelError
from station.labels.content import SAMPLE_RECORD, label_fields, labelled, parse_qr, qr_payload
from station.records.model import ReaderIdentity, UnitIdentity
from tests.labels.conftest import KNOWN_RECORD


def test_fields_of_a_known_record() -> None:
    assert label_fields(KNOWN_RECORD) == {
        "record_id": "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f",
        "station": "line1-st01",
        "seq": "42",
        "mode": "production",
        "profile": "acme-2026-q4",
        "devid": "2023b758c209269a",
        "genuine_id": "0123eb561f5ea073ee",
        "hwv": "PPA rev1",
        "fwv": "Encedo nGINE FW v1.2.2",
        "finished": "2025-03-04 10:00:05 UTC",
        "date": "2025-03-04",
        "simulated": "",
        "qr_data": "PPA1:2023B758C209269A:3F2B8C1E-7D4A-4B9E-9C55-0A1B2C3D4E5F",
    }


def test_what_a_record_lacks_is_left_out() -> None:
    bare = replace(KNOWN_RECORD, unit=UnitIdentity(), personalization=None, simulated=True)
    fields = label_fields(bare)
    assert set(fields) == {"record_id", "station", "seq", "mode", "finished", "date", "simulated"}
    assert fields["simulated"] == "SIMULATED"


def test_a_readers_record_has_no_unit_fields() -> None:
    reader = replace(KNOWN_RECORD, mode="readers", unit=ReaderIdentity(device_id="vkYkoELRDS3p9xhQO1lx8a"))
    assert not set(label_fields(reader)) & {"devid", "genuine_id", "hwv", "fwv", "qr_data"}


def test_the_date_is_the_utc_date() -> None:
    assert (
        label_fields(replace(KNOWN_RECORD, finished="2025-03-04T23:30:00.000-02:00"))["date"] == "2025-03-05"
    )


def test_sample_record_provides_every_field() -> None:
    assert set(label_fields(SAMPLE_RECORD)) >= {"qr_data", "devid", "record_id", "fwv", "profile", "date"}


def test_qr_payload_round_trips() -> None:
    text = qr_payload("2023b758c209269a", "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f")
    assert text == "PPA1:2023B758C209269A:3F2B8C1E-7D4A-4B9E-9C55-0A1B2C3D4E5F"
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")  # QR alphanumeric mode
    assert parse_qr(text) == ("2023b758c209269a", "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f")
    assert parse_qr(" ppa1:ab:cd \n") == ("ab", "cd")


@pytest.mark.parametrize("text", ["", "PPA1:ab", "PPA2:ab:cd", "https://example.invalid", "PPA1:a b:cd"])
def test_other_scans_are_not_label_codes(text: str) -> None:
    assert parse_qr(text) is None


def test_an_id_that_cannot_be_a_qr_field_is_refused() -> None:
    with pytest.raises(LabelError, match="devid 'ab:cd' cannot go into the label's QR code"):
        qr_payload("ab:cd", "r")


@pytest.mark.parametrize(
    ("mode", "outcome", "why"),
    [
        ("production", "pass", None),
        ("rma", "pass", None),
        ("production", "fail", "the unit did not pass (production outcome: fail)"),
        ("rma", "aborted", "the unit did not pass (rma outcome: aborted)"),
        ("qa", "pass", "it is a qa record; only production and RMA records get a unit label"),
    ],
)
def test_only_passing_production_and_rma_records_get_labels(mode: str, outcome: str, why: str | None) -> None:
    refusal = labelled(replace(KNOWN_RECORD, mode=mode, outcome=outcome))
    assert refusal == why or (why is not None and refusal is not None and refusal.startswith(why))
