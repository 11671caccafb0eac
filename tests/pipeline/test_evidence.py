"""Records that say no more than the station knows: the certificate read back, simulated units named.

A provisioning request answered 200 proves nothing by itself (its body is unspecified, and a garbled one
reads as success): the record's certificate is the one the unit's attestation shows afterwards. A
certificate sent and never read back is recorded as issued, not confirmed. A simulator declares itself
in a reply header, so its units' records say ``simulated: true`` whatever the fixture kind.
"""

from __future__ import annotations

import hashlib
import io

import pytest

from station.cli.records import cmd_show
from station.core import codec
from station.core.events import Outcome
from station.devices.ppa.client import PpaClient
from station.pipeline.recording import journal_evidence, journal_simulated
from station.records.entries import JournalEntry
from station.records.store.sqlite import DEFAULT_FILENAME
from station.sim.ppa import http as simhttp
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import PROVISIONING, LineFactory, failure_of, step_of
from tests.records.factories import evidence, make_ca, random_unit


def test_a_garbled_200_to_the_provisioning_request_is_not_taken_for_a_certificate(
    line_factory: LineFactory,
) -> None:
    line = line_factory(network=[{}])
    # The unit answers 200 with a garbled body and never takes the certificate.
    line.extra_units[0].faults.add(FaultRule("garbage", path=PROVISIONING, method="POST", times=1))
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.FAIL
    step, code, message = failure_of(verdict)
    assert (step, code) == ("verify-lock", "provisioning-unconfirmed")
    assert "provisioning unconfirmed" in message and "carries no certificate" in message
    record = verdict.record.payload
    assert record["provisioning"] is None  # the unit holds none, so the record claims none
    assert "csr" in line.attestation(index=0) and "crt" not in line.attestation(index=0)
    assert "written" not in step_of(verdict, "provision")["detail"]["message"]
    assert line.verify().ok


def test_a_certificate_sent_and_never_read_back_is_recorded_as_issued_not_confirmed(
    line_factory: LineFactory,
) -> None:
    line = line_factory(network=[{}])
    line.extra_units[0].faults.add(FaultRule("drop", path=PROVISIONING, method="POST", times=1))
    (verdict,) = line.run()

    assert verdict.outcome is not Outcome.PASS
    assert failure_of(verdict)[0] == "provision"
    provisioning = verdict.record.payload["provisioning"]
    assert provisioning is not None and provisioning["confirmed"] is False
    assert provisioning["refusal_status"] is None
    (intent,) = [
        entry.detail
        for entry in line.station.store.run_journal(verdict.run_id)
        if (entry.step, entry.phase) == ("provision", "intent")
    ]
    assert (
        provisioning["crt_sha256"]
        == intent["crt_sha256"]
        == hashlib.sha256(codec.b64decode(provisioning["crt"])).hexdigest()
    )
    assert line.verify().ok

    out = io.StringIO()
    cmd_show(line.data_dir / DEFAULT_FILENAME, verdict.record.record_id, out=out, err=out)
    assert "certificate (issued, not confirmed: never read back from the unit)" in out.getvalue()


def test_a_passing_record_carries_the_certificate_the_unit_shows(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    provisioning = verdict.record.payload["provisioning"]
    assert provisioning["confirmed"] is True and provisioning["refusal_status"] == 406
    assert line.attestation(line.login(verdict))["crt"] == provisioning["crt"]


def test_units_of_a_simulator_over_network_fixtures_are_recorded_simulated(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])  # a station with simulated = false and a network slot
    assert not line.config.station.simulated and not line.station.fixtures[0].simulated
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["simulated"] is True


def test_a_unit_that_does_not_declare_itself_simulated_is_recorded_as_real(
    line_factory: LineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simhttp, "SIMULATED_HEADER", ("X-Something-Else", "1"))  # as a real unit answers
    line = line_factory(network=[{}])
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["simulated"] is False


def test_the_client_notes_a_simulated_unit_from_its_replies(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    client = PpaClient.at(line.url())
    assert client.simulated_unit is False  # nothing heard yet
    client.status()
    assert client.simulated_unit is True
    assert client.with_timeout(1.0).simulated_unit is True  # the same unit


def _journal(*entries: tuple[str, str, dict[str, object]]) -> list[JournalEntry]:
    at = "2025-03-04T05:06:07.000Z"
    return [
        JournalEntry("run-1", n, step, phase, detail, at) for n, (step, phase, detail) in enumerate(entries)
    ]


def _intent() -> tuple[str, str, dict[str, object]]:
    issued = evidence(make_ca(), random_unit())
    return ("provision", "intent", {"crt": issued.crt, "crt_sha256": issued.crt_sha256, "genuine_id": "00aa"})


def test_a_journalled_provisioning_is_issued_not_confirmed_until_verify_lock_passed() -> None:
    intent = _intent()
    sent = journal_evidence(_journal(intent, ("verify-lock", "start", {})))
    assert sent is not None and sent.confirmed is False and sent.refusal_status is None
    assert sent.crt == intent[2]["crt"] and sent.crt_sha256 == intent[2]["crt_sha256"]
    locked = journal_evidence(_journal(intent, ("verify-lock", "end", {"outcome": "pass"})))
    assert locked is not None and locked.confirmed is True and locked.refusal_status == 406
    failed = journal_evidence(_journal(intent, ("verify-lock", "end", {"outcome": "fail"})))
    assert failed is not None and failed.confirmed is False
    assert journal_evidence(_journal(("identify", "start", {}))) is None  # no provisioning announced
    digest: object = hashlib.sha256(b"\0\0\0").hexdigest()
    broken = ("provision", "intent", {"crt": "AAAA", "crt_sha256": digest})
    assert journal_evidence(_journal(broken)) is None  # not a certificate: nothing rather than nonsense


def test_a_journal_notes_a_simulated_unit_for_the_record_that_closes_its_run() -> None:
    noted = ("provision", "intent", {**_intent()[2], "simulated_unit": True})
    assert journal_simulated(_journal(noted)) is True
    assert journal_simulated(_journal(_intent())) is False
