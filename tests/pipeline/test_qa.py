"""QA mode end to end: a unit made by a production station, re-verified by the same station in QA mode.

Units are ``network`` fixtures (``SimulatedPpa`` started by the test), so they outlive the production
station and answer the QA station as they would a QA bench. Each case checks the verdict (outcome, step,
code, a message naming what is wrong), the signed QA record (``links.verifies``, the step detail) and,
where it matters, what the unit saw (``SimulatedPpa.requests_seen``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.app.station import Station
from station.core.config import KeysSection, load
from station.core.events import Outcome
from station.core.operator import Operator
from station.factory.backend import LocalBackend
from station.pipeline.tally import Verdict
from station.records import jws, model
from station.records.entries import StoredRecord
from station.records.store.sqlite import DEFAULT_FILENAME
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import (
    BATCH_ENV,
    PASSPHRASE_ENV,
    PROFILE,
    Line,
    LineFactory,
    failure_of,
    step_of,
    toml_text,
)

QA_STEPS = ["identify", "challenge", "attest", "record", "compare"]
LOGIN = ("POST", "/api/auth/token")
CHECKIN = ("POST", "/api/system/checkin")


@dataclasses.dataclass
class Made:
    """A unit a production station made, and the station reopened in QA mode."""

    production: Line
    unit: SimulatedPpa
    verdict: Verdict | None  # of the production run (None: the unit was left as it came)
    qa: Line | None = None

    @property
    def record(self) -> StoredRecord:
        assert self.verdict is not None
        return self.verdict.record


Make = Callable[..., Made]


@pytest.fixture
def make(line_factory: LineFactory) -> Iterator[Make]:
    """``make()`` produces one network unit (``produce=False``: left fresh; ``faults``: aimed at the unit)."""
    made_units: list[Made] = []

    def produce(*, produce: bool = True, faults: tuple[FaultRule, ...] = ()) -> Made:
        line = line_factory(network=[{}])
        for rule in faults:
            line.extra_units[0].faults.add(rule)
        verdict = line.run()[0] if produce else None
        assert verdict is None or faults or verdict.outcome is Outcome.PASS, verdict.failure
        made = Made(line, line.extra_units[0], verdict)
        made_units.append(made)
        return made

    yield produce
    for made in made_units:
        if made.qa is not None:
            made.qa.close()


def qa_run(made: Made, **open_kwargs: Any) -> Verdict:
    """Reopen the production station in QA mode (optionally with other ``Station.open`` arguments)."""
    line = made.production
    line.station.close()
    environ = open_kwargs.pop("environ", line.environ)
    station = Station.open(line.config, environ=environ, mode="qa", **open_kwargs)
    units, line.extra_units = line.extra_units, []
    made.qa = Line(station, environ, units)
    (verdict,) = made.qa.run()
    return verdict


def persistent(unit: SimulatedPpa) -> tuple[Any, ...]:
    """What a write would change on the unit (the audit log aside: a login is logged, as it should be)."""
    state = unit.state
    return (
        dataclasses.asdict(state.config),
        state.initialised,
        state.instanceid,
        state.se_certificate,
        state.fls_state,
        state.firmware.fwv,
        state.instance.eid_public,
        state.tls_bundle,
        state.hardware.devid,
    )


def compare_detail(verdict: Verdict) -> Mapping[str, Any]:
    return step_of(verdict, "compare")["detail"]


# --- a good unit --------------------------------------------------------------------------------------------


def test_a_produced_unit_passes_and_its_qa_record_links_to_the_production_record(make: Make) -> None:
    made = make()
    verdict = qa_run(made)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    record, production = verdict.record.payload, made.record.payload
    assert record["mode"] == "qa"
    assert record["links"] == {"supersedes": None, "verifies": production["record_id"]}
    assert [step["name"] for step in record["steps"]] == QA_STEPS
    for name in ("devid", "genuine_id", "eid", "eid_sign", "instanceid", "hwv", "fwv", "blv"):
        assert record["unit"][name] == production["unit"][name], name
    assert record["provisioning"]["crt_sha256"] == production["provisioning"]["crt_sha256"]
    assert compare_detail(verdict)["mismatches"] == []
    assert step_of(verdict, "record")["detail"]["record_id"] == production["record_id"]
    assert record["seq"] == production["seq"] + 1  # the same station's chain
    assert made.qa is not None
    report = made.qa.verify()
    assert report.ok, report.first


def test_qa_calls_no_write_endpoint_and_changes_nothing_on_the_unit(make: Make) -> None:
    made = make()
    before = persistent(made.unit)
    made.unit.requests_seen.clear()

    verdict = qa_run(made)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    seen = list(made.unit.requests_seen)
    writes = [request for request in seen if request[0] != "GET" and request != LOGIN]
    assert writes == []
    assert seen.count(LOGIN) == 1  # the one login a personalised unit needs before it attests
    assert {"/api/system/config/attestation", "/api/auth/token", "/api/system/config"} <= {p for _, p in seen}
    assert persistent(made.unit) == before


def test_a_unit_that_lost_its_clock_is_checked_in_only_to_set_it(make: Make) -> None:
    made = make()  # the profile keeps trusted time on: no token challenge without a clock
    made.unit.reboot_now()
    before = persistent(made.unit)
    made.unit.requests_seen.clear()

    verdict = qa_run(made)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    writes = [request for request in made.unit.requests_seen if request[0] != "GET"]
    assert sorted(set(writes)) == sorted({LOGIN, CHECKIN})
    assert persistent(made.unit) == before
    assert any("checked in with action OK" in note for note in compare_detail(verdict)["notes"])


def test_a_firmware_upgrade_after_production_is_a_note_not_a_failure(make: Make) -> None:
    made = make()
    made.unit.state.firmware.fwv = "Encedo nGINE FW v1.2.3"

    verdict = qa_run(made)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["unit"]["fwv"] == "Encedo nGINE FW v1.2.3"
    assert any(note.startswith("fwv: upgraded from") for note in compare_detail(verdict)["notes"])


def test_a_unit_carried_in_a_repair_record_is_compared_with_that_record(make: Make) -> None:
    made = make()
    production = made.record.payload
    rma = made.production.station.writer.append(_repair_of(production))

    verdict = qa_run(made)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["links"]["verifies"] == rma.record_id


# --- mismatches ---------------------------------------------------------------------------------------------


def test_a_firmware_downgrade_is_a_mismatch_naming_the_field(make: Make) -> None:
    made = make()
    made.unit.state.firmware.fwv = "Encedo nGINE FW v1.2.1"

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("compare", "mismatch")
    assert "fwv: record says 'Encedo nGINE FW v1.2.2', unit has 'Encedo nGINE FW v1.2.1'" in message
    assert "older than recorded" in message
    assert [m["field"] for m in compare_detail(verdict)["mismatches"]] == ["fwv"]
    assert verdict.record.payload["links"]["verifies"] == made.record.record_id


@pytest.mark.usefixtures("quick_retries")  # the attest retries, without their pauses
def test_another_unit_answering_with_the_same_devid_lists_every_field(make: Make) -> None:
    made, other = make(), make()  # two stations: the other unit's certificate is from another CA
    impostor = other.unit.state
    impostor.hardware = dataclasses.replace(impostor.hardware, devid=made.unit.devid)
    made.unit.state = impostor  # a unit that claims the first unit's devid now sits in its slot

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("compare", "mismatch")
    fields = {m["field"] for m in compare_detail(verdict)["mismatches"]}
    assert fields == {
        "crt.issuer",
        "genuine_id",
        "eid",
        "eid_sign",
        "instanceid",
        "crt_sha256",
        "attestation_key_sha1",
    }
    for name in sorted(fields):
        assert f"{name}:" in message
    assert "not issued by the factory CA" in message
    assert verdict.record.payload["unit"]["devid"] == made.unit.devid
    assert verdict.record.payload["unit"]["genuine_id"] == impostor.hardware.genuine_id
    assert verdict.record.payload["provisioning"] is None  # a certificate our CA did not issue stays out


# --- no trustworthy record ----------------------------------------------------------------------------------


def _tamper_payload(text: str, key: Ed25519PrivateKey | None) -> str:
    """The record with its firmware version changed: signature kept, or re-signed with ``key``."""
    header, payload, signature = text.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["unit"]["fwv"] = "Encedo nGINE FW v9.9.9"
    if key is not None:
        return jws.sign(claims, key, jws.key_id(key.public_key()))
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{header}.{body.decode()}.{signature}"


TAMPERS = {
    "payload-edited": ("jws", lambda text: _tamper_payload(text, None), "signature does not verify"),
    "re-signed": ("jws", lambda text: _tamper_payload(text, Ed25519PrivateKey.generate()), "unknown key"),
    "column-edited": ("genuine_id", lambda text: "0123" + "00" * 7, "stored column genuine_id differs"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_tampered_production_record_fails_saying_which_check(make: Make, tamper: str) -> None:
    made = make()
    column, change, reason = TAMPERS[tamper]
    stored = made.record
    with sqlite3.connect(made.production.data_dir / DEFAULT_FILENAME) as raw:  # as an attacker with the file
        raw.execute("DROP TRIGGER records_no_update")
        raw.execute(
            f"UPDATE records SET {column} = ? WHERE record_id = ?",  # noqa: S608 - test-chosen column
            (change(stored.jws if column == "jws" else ""), stored.record_id),
        )

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("record", "record-invalid")
    assert f"record {stored.record_id}" in message
    assert reason in message
    assert verdict.record.payload["links"]["verifies"] == stored.record_id


def test_a_changed_neighbour_breaks_the_records_place_in_the_chain(make: Make) -> None:
    made = make()
    stored = made.record
    made.production.station.writer.append(_repair_of(stored.payload, supersedes=False, outcome="fail"))
    with sqlite3.connect(made.production.data_dir / DEFAULT_FILENAME) as raw:
        raw.execute("DROP TRIGGER records_no_update")
        raw.execute("UPDATE records SET jws = ? WHERE seq = ?", _tamper_payload_prev(raw, stored.seq + 1))

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("record", "record-invalid")
    assert f"next record (seq {stored.seq + 1}) does not confirm it" in message


def test_a_unit_with_no_record_anywhere_fails_with_no_record(make: Make, tmp_path: Path) -> None:
    made = make()

    verdict = qa_run(made, data_dir=tmp_path / "another-station")  # a station that never saw the unit

    step, code, message = failure_of(verdict)
    assert (step, code) == ("record", "no-record")
    assert made.unit.devid in message
    assert verdict.record.payload["links"]["verifies"] is None


@pytest.mark.usefixtures("quick_retries")  # three failed reads in production, without their pauses
def test_a_unit_whose_production_failed_has_no_record_to_pass_against(make: Make) -> None:
    made = make(faults=(FaultRule("500", path="/api/logger/key", times=3),))  # fails the last step
    assert made.record.outcome == "error"

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("record", "no-record")
    assert f"record(s) is {made.record.record_id} (production, error)" in message


def test_a_unit_personalised_with_other_secrets_cannot_be_read(make: Make) -> None:
    made = make()

    verdict = qa_run(made, environ={**BATCH_ENV, PASSPHRASE_ENV: "wrong-batch-7731"})

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "no-credentials")
    assert "other secrets" in message
    assert "wrong-batch-7731" not in message  # the secret never shows


def test_a_unit_that_was_never_provisioned_fails_and_is_not_written(make: Make) -> None:
    made = make(produce=False)
    before = persistent(made.unit)

    verdict = qa_run(made)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "not-provisioned")
    assert "never provisioned" in message
    assert [request for request in made.unit.requests_seen if request[0] != "GET"] == []
    assert persistent(made.unit) == before
    assert verdict.record.payload["unit"]["genuine_id"] == made.unit.state.hardware.genuine_id


# --- helpers ------------------------------------------------------------------------------------------------


def _repair_of(
    payload: Mapping[str, Any], *, supersedes: bool = True, outcome: str = "pass"
) -> model.RecordDraft:
    """A record as an RMA run would write it for the unit of ``payload`` (same identity, new record)."""
    now = model.utc_now()
    failure = None if outcome == "pass" else model.Failure("verify", "test", "a failing repair")
    return model.RecordDraft(
        mode="rma",
        operator=Operator("rma-bench", "engineer"),
        fixture=model.FixtureRef("R1"),
        unit=model.UnitIdentity(**payload["unit"]),
        provisioning=model.ProvisioningEvidence(**payload["provisioning"]),
        personalization=payload["personalization"],
        steps=(),
        outcome=outcome,
        failure=failure,
        links=model.Links(supersedes=payload["record_id"] if supersedes else None),
        started=now,
        finished=now,
        simulated=True,
    )


def _tamper_payload_prev(raw: sqlite3.Connection, seq: int) -> tuple[str, int]:
    (text,) = raw.execute("SELECT jws FROM records WHERE seq = ?", (seq,)).fetchone()
    header, payload, signature = text.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["prev"] = "f" * 64
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{header}.{body.decode()}.{signature}", seq


# --- the line database --------------------------------------------------------------------------------------


def test_a_unit_made_at_another_station_is_verified_from_the_line_database(
    tmp_path: Path, station_role: str
) -> None:
    """Station st-a makes the unit and syncs; QA station st-b (same line, same factory CA) has no record."""
    factory = tmp_path / "factory"
    keys = {"ca": f"file:{factory / 'factory-ca.pem'}", "checkin": f"file:{factory / 'checkin.key'}"}
    backend = LocalBackend.from_keys(KeysSection(**keys), factory, name="factory")
    unit = SimulatedPpa(backend_key=backend.checkin_public_key()).start()
    try:
        shared = {"keys": keys, "line": station_role, "url": unit.http_url}
        made = _line_station(tmp_path / "a", "st-a", shared, "production")
        (production,) = made.run()
        made.close()
        assert production.outcome is Outcome.PASS, production.failure
        qa = _line_station(tmp_path / "b", "st-b", shared, "qa")
        (verdict,) = qa.run()
        qa.close()
    finally:
        unit.stop()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["links"]["verifies"] == production.record.record_id
    assert step_of(verdict, "record")["detail"]["source"].startswith("the line database")
    assert verdict.record.payload["station"]["id"] == "st-b"


def _line_station(folder: Path, station_id: str, shared: Mapping[str, Any], mode: str) -> Line:
    """A station on line ``shared["line"]`` with the shared factory keys and one slot at ``shared["url"]``."""
    document = {
        "station": {"id": station_id, "data_dir": "data", "simulated": False},
        "keys": dict(shared["keys"]),
        "store": {"line": shared["line"]},
        "profile": {"default": dict(PROFILE)},
        "fixture": [{"slot": "N1", "kind": "network", "url": shared["url"]}],
    }
    folder.mkdir(parents=True)
    (folder / "station.toml").write_text(toml_text(document), encoding="utf-8")
    station = Station.open(load(folder / "station.toml"), environ=BATCH_ENV, mode=mode)
    return Line(station, BATCH_ENV)
