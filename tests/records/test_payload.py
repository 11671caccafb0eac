"""The typed view of a record payload: what the writer signed reads back as the draft's values, and a
malformed payload is refused naming the field."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from station.core.errors import RecordError
from station.core.operator import Operator
from station.records import RecordWriter, SqliteStore
from station.records.entries import StoredRecord
from station.records.model import FixtureRef, Links, ReaderIdentity
from station.records.payload import RecordPayload
from tests.records.conftest import STATION
from tests.records.factories import Ca, draft


def test_a_written_record_reads_back_as_its_draft(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    written = draft(ca)
    stored = store.get(writer.append(written).record_id)
    assert stored is not None
    record = stored.parsed
    assert (record.mode, record.outcome, record.station.id, record.seq) == ("production", "pass", STATION, 1)
    assert record.operator == Operator("op7", "operator")
    assert record.fixture == FixtureRef(slot="A1", port="1-1.2")
    assert record.unit == written.unit
    assert record.provisioning == written.provisioning
    assert record.links == Links() and record.failure is None
    assert [step.name for step in record.steps] == ["detect", "identify", "provision", "verify"]
    assert record.steps[0].detail == {"note": "step 0"} and record.steps[0].attempts == 1
    assert record.finished == stored.finished == "2025-03-04T10:00:05.000Z"
    assert record.index_ids == (stored.devid, stored.genuine_id)
    assert record.production_pass and record.ppa_unit == written.unit


def test_a_failed_record_carries_its_failure(writer: RecordWriter) -> None:
    record = writer.append(draft(outcome="fail")).parsed
    assert record.failure is not None and (record.failure.step, record.failure.code) == (
        "provision",
        "HTTP 500",
    )
    assert record.provisioning is None and not record.production_pass


def test_a_readers_record_has_a_reader_unit(writer: RecordWriter) -> None:
    reader = ReaderIdentity(
        device_id="vkYkoELRDS3p9xhQO1lx8a", serial="S1", config_id="C", config_sha256="0" * 64
    )
    record = writer.append(replace(draft(), mode="readers", unit=reader)).parsed
    assert record.unit == reader
    assert record.ppa_unit is None
    assert record.index_ids == ("vkYkoELRDS3p9xhQO1lx8a", None)


def _payload(writer: RecordWriter, ca: Ca) -> dict[str, Any]:
    return copy.deepcopy(dict(writer.append(draft(ca)).payload))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: p.pop("station"), "station is missing"),
        (lambda p: p.update(seq=True), "seq is a boolean, expected an integer"),
        (lambda p: p.update(mode=None), "mode is null, expected text"),
        (lambda p: p["unit"].update(fwv=12), "unit.fwv is a number, expected text or null"),
        (lambda p: p["steps"][2].update(outcome=[]), "steps[2].outcome is a list, expected text"),
        (lambda p: p["steps"].append("x"), "steps[4] is a string, expected an object"),
        (lambda p: p.update(provisioning="crt"), "provisioning is a string, expected an object or null"),
        (lambda p: p["links"].pop("verifies") and None, None),  # an absent optional field is None
    ],
)
def test_a_malformed_payload_is_refused_naming_the_field(
    writer: RecordWriter, ca: Ca, change: Any, named: str | None
) -> None:
    payload = _payload(writer, ca)
    change(payload)
    if named is None:
        assert RecordPayload.parse(payload).links.verifies is None
        return
    with pytest.raises(RecordError) as refused:
        RecordPayload.parse(payload)
    assert str(refused.value) == f"record payload: {named}"


def test_unknown_fields_are_ignored(writer: RecordWriter, ca: Ca) -> None:
    payload = _payload(writer, ca)
    payload["unit"]["pcb_revision"] = "C"
    payload["line"] = {"shift": 2}
    assert RecordPayload.parse(payload).unit.devid == payload["unit"]["devid"]  # type: ignore[union-attr]


def test_a_damaged_row_names_its_record_or_reads_as_none() -> None:
    created = "2025-01-02T00:00:00Z"
    damaged = StoredRecord("st", 3, "r-3", None, None, "production", "pass", created, "x.y", {})
    with pytest.raises(RecordError, match=r"^record r-3: schema is missing$"):
        _ = damaged.parsed
    assert damaged.readable is None
    assert damaged.finished == created  # the row's created time, so it still sorts


def test_a_provisioning_block_from_before_confirmed_reads_as_read_back(writer: RecordWriter, ca: Ca) -> None:
    payload = copy.deepcopy(dict(writer.append(draft(ca)).payload))
    del payload["provisioning"]["confirmed"]
    record = RecordPayload.parse(payload)
    assert record.provisioning is not None and record.provisioning.confirmed is True
    payload["provisioning"]["confirmed"] = False
    parsed = RecordPayload.parse(payload).provisioning
    assert parsed is not None and parsed.confirmed is False
