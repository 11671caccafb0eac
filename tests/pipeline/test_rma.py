"""RMA mode end to end: a returned unit wiped, checked, personalised again and recorded over the old record.

Each case produces a unit on a station (a ``network`` unit, so it outlives the production station), opens
the same station again in ``rma`` mode (``Line.reopen``) and checks the verdict, the signed record (its
``links.supersedes``, its step details), ``records verify`` and ``records show``, and the unit's real
state read back over HTTP. The customer's passphrase comes from a callable, as an operator's dialog
would give it; it must show up nowhere the station writes or says anything.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from station.app.data import StationData
from station.cli.records import cmd_show, cmd_verify
from station.core import codec
from station.core.errors import DeviceTimeout, DeviceUnreachable
from station.core.events import Event, Outcome
from station.devices.ppa.client import PpaClient
from station.factory.backend import LocalBackend
from station.factory.keys.keystore import FileKeyStore
from station.factory.keys.secrets import UnitSecrets, derive_keys
from station.pipeline.modes.rma.flow import ReturnedUnit, RmaPolicy
from station.pipeline.tally import Verdict
from station.records.store.sqlite import DEFAULT_FILENAME
from station.records.view import record_view
from station.sim.ppa.repair import fit_blank_secure_element
from tests import simtools
from tests.pipeline.conftest import (
    ATTESTATION,
    BATCH_PASSPHRASE,
    CONFIG,
    PROFILE,
    Line,
    LineFactory,
    failure_of,
    ok_json,
    step_of,
)
from tests.pipeline.passedshown import shown_as_passed

RMA_STEPS = [
    "identify",
    "history",
    "wipe",
    "reboot",
    "check-in",
    "attest",
    "certificate",
    "provision",
    "verify-lock",
    "personalize",
    "verify",
]
Reopen = Callable[..., Line]


@pytest.fixture
def reopen() -> Iterator[Reopen]:
    """``reopen(line, "rma", **policy)``: the station again in another mode; closed at teardown."""
    opened: list[Line] = []

    def make(line: Line, mode: str = "rma", **policy: Any) -> Line:
        again = line.reopen(mode, rma=RmaPolicy(**policy)) if mode == "rma" else line.reopen(mode)
        opened.append(again)
        return again

    yield make
    for line in opened:
        line.close()


class Customer:
    """The operator's passphrase dialog: answers with the customer's passphrase, remembers who asked."""

    def __init__(self, passphrase: str | None) -> None:
        self.passphrase = passphrase
        self.asked: list[ReturnedUnit] = []

    def __call__(self, unit: ReturnedUnit) -> str | None:
        self.asked.append(unit)
        return self.passphrase


def produce(line_factory: LineFactory, **kwargs: Any) -> tuple[Line, Verdict]:
    """A station with one network unit, which it has produced (passed)."""
    line = line_factory(network=[{}], **kwargs)
    (made,) = line.run()
    assert made.outcome is Outcome.PASS, made.failure
    return line, made


def run_one(line: Line) -> Verdict:
    (verdict,) = line.run()
    return verdict


def show(line: Line, what: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``station records show WHAT`` on the station's store, as the command line prints it."""
    capsys.readouterr()
    data = StationData.open(line.config, data_dir=line.data_dir)
    assert cmd_show(data.store_path, what, trusted_keys=data.trusted_keys(), ca=data.ca_certificate()) == 0
    return capsys.readouterr().out


def verify_ok(line: Line) -> None:
    data = StationData.open(line.config, data_dir=line.data_dir)
    assert cmd_verify(data.store_path, data.trusted_keys(), data.ca_certificate()) == 0
    report = line.verify()
    assert report.ok, report.first


def unit_client(line: Line) -> PpaClient:
    return PpaClient.at(line.url())


# --- a personalised unit comes back ------------------------------------------------------------------------


def test_rma_with_the_customer_passphrase_wipes_repersonalises_and_supersedes(
    line_factory: LineFactory, reopen: Reopen, capsys: pytest.CaptureFixture[str]
) -> None:
    line, made = produce(line_factory)
    customer = Customer(BATCH_PASSPHRASE)
    rma = reopen(line, customer_passphrase=customer)
    events: list[Event] = []
    rma.station.bus.subscribe(events.append)
    verdict = run_one(rma)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    old, new = made.record.payload, verdict.record.payload
    assert new["mode"] == "rma"
    assert [step["name"] for step in new["steps"]] == RMA_STEPS
    assert new["links"] == {"supersedes": made.record.record_id, "verifies": None}
    assert [(unit.slot, unit.eid) for unit in customer.asked] == [("N1", old["unit"]["eid"])]
    # same board and secure element, same certificate; a new instance (the wipe made a new eid)
    assert new["unit"]["devid"] == old["unit"]["devid"]
    assert new["unit"]["genuine_id"] == old["unit"]["genuine_id"]
    assert new["unit"]["eid"] != old["unit"]["eid"]
    assert new["provisioning"]["crt"] == old["provisioning"]["crt"]
    assert new["provisioning"]["refusal_status"] == 406
    assert step_of(verdict, "wipe")["detail"]["method"] == "customer-passphrase"
    assert step_of(verdict, "history")["detail"]["supersedes"] == made.record.record_id
    assert "keeps its certificate" in step_of(verdict, "attest")["detail"]["message"]
    assert new["personalization"]["profile"] == "default"

    # the unit really is the new instance: the profile's new key opens it, its certificate is unchanged
    token = rma.login(verdict)
    config = ok_json(simtools.get(rma.url(), CONFIG, token))
    assert config["eid"] == new["unit"]["eid"] and config["devid"] == new["unit"]["devid"]
    assert rma.attestation(token)["crt"] == old["provisioning"]["crt"]

    # records: both kept and verified; the old one shown superseded, the registry still names production
    verify_ok(rma)
    entry = rma.station.store.find_production(devid=new["unit"]["devid"])
    assert entry is not None and entry.record_id == made.record.record_id
    shown = show(rma, old["unit"]["devid"], capsys)
    new_part, old_part = shown.split(f"record {made.record.record_id} ")  # newest first
    current = verdict.record
    heading = f"record {current.record_id} (station {current.station_id}, seq {current.seq})"
    assert f"{heading}  [CURRENT]" in new_part
    assert f"superseded by {verdict.record.record_id}" in old_part
    assert "superseded by" not in new_part
    assert f"supersedes   {made.record.record_id}" in new_part
    view = record_view(rma.station.store, made.record)
    assert view.superseded_by == verdict.record.record_id  # what the GUI's records view shows too

    assert_passphrase_never_written(rma, verdict, events, old["unit"]["eid"])


def assert_passphrase_never_written(line: Line, verdict: Verdict, events: list[Event], eid: str) -> None:
    """The customer's passphrase and the user key it gives appear in nothing the station kept or said."""
    user_key = derive_keys(UnitSecrets(BATCH_PASSPHRASE, line.environ["PPA_TEST_MNEMONIC"]), eid).user_private
    needles = [
        BATCH_PASSPHRASE,
        user_key.hex(),
        codec.b64encode(user_key),
        codec.b64url_encode(user_key),
    ]
    out = io.StringIO()
    cmd_show(line.data_dir / DEFAULT_FILENAME, verdict.record.record_id, out=out, err=out)
    texts = [repr(event) for event in events] + [repr(verdict), repr(line.station), out.getvalue()]
    texts += [repr(entry) for entry in line.station.store.run_journal(verdict.run_id)]
    texts += [record.jws + repr(dict(record.payload)) for record in line.records()]
    blobs = [path.read_bytes() for path in Path(line.data_dir).glob(f"{DEFAULT_FILENAME}*")]
    assert any(verdict.record.record_id in text for text in texts)  # positive control
    for number, needle in enumerate(needles):
        assert not [text for text in texts if needle in text], f"secret form #{number} in a text"
        assert not [blob for blob in blobs if needle.encode() in blob], f"secret form #{number} in a file"
    assert not [blob for blob in blobs if user_key in blob], "raw user key in a file"


def test_rma_through_the_backend_wipe_when_no_passphrase_is_given(
    line_factory: LineFactory, reopen: Reopen, capsys: pytest.CaptureFixture[str]
) -> None:
    line, made = produce(line_factory)
    rma = reopen(line)  # no passphrase: the unit trusts the backend (the profile's trusted_backend)
    verdict = run_one(rma)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    new = verdict.record.payload
    assert step_of(verdict, "wipe")["detail"]["method"] == "backend-check-in"
    assert "identified after the wipe" in step_of(verdict, "identify")["detail"]["message"]
    assert "looked up after the wipe" in step_of(verdict, "history")["detail"]["message"]
    assert step_of(verdict, "attest")["detail"]["supersedes"] == made.record.record_id
    assert new["links"]["supersedes"] == made.record.record_id
    assert new["unit"]["devid"] == made.record.payload["unit"]["devid"]
    assert new["unit"]["eid"] != made.record.payload["unit"]["eid"]
    token = rma.login(verdict)
    assert ok_json(simtools.get(rma.url(), CONFIG, token))["eid"] == new["unit"]["eid"]
    verify_ok(rma)
    assert f"superseded by {verdict.record.record_id}" in show(rma, made.record.record_id, capsys)


def test_a_unit_that_ignores_the_backend_wipe_fails_saying_so(
    line_factory: LineFactory, reopen: Reopen
) -> None:
    line, _ = produce(line_factory, profile={**PROFILE, "trusted_backend": False})
    rma = reopen(line, wipe_grace=0.5)
    verdict = run_one(rma)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("reboot", "wipe-ignored")
    assert "trusted_backend setting is off" in message and "passphrase" in message
    assert rma.status().get("inited", True) is True  # still the customer's unit, untouched
    assert verdict.record.payload["links"]["supersedes"] is None  # history waited for the wipe


# --- the secure element ------------------------------------------------------------------------------------


def test_a_repaired_board_with_a_blank_secure_element_is_provisioned(
    line_factory: LineFactory, reopen: Reopen, capsys: pytest.CaptureFixture[str]
) -> None:
    line, made = produce(line_factory)
    new_serial = fit_blank_secure_element(line.extra_units[0])
    rma = reopen(line, customer_passphrase=Customer(BATCH_PASSPHRASE))
    verdict = run_one(rma)

    assert verdict.outcome is Outcome.PASS, verdict.failure
    old, new = made.record.payload, verdict.record.payload
    assert new["unit"]["devid"] == old["unit"]["devid"]
    assert new["unit"]["genuine_id"] == new_serial != old["unit"]["genuine_id"]
    assert new["provisioning"]["crt"] != old["provisioning"]["crt"]
    assert "repaired board" in step_of(verdict, "history")["detail"]["message"]
    assert "blank" in step_of(verdict, "attest")["detail"]["message"]
    assert "serial" in step_of(verdict, "certificate")["detail"]["message"]
    assert new["links"]["supersedes"] == made.record.record_id
    assert rma.attestation(rma.login(verdict))["crt"] == new["provisioning"]["crt"]
    verify_ok(rma)  # the new certificate is from the factory CA, the registry untouched
    assert f"superseded by {verdict.record.record_id}" in show(rma, made.record.record_id, capsys)

    # returned again, wiped by its owner: known by its new secure element, the RMA record is superseded
    customer_wipe(rma, verdict)
    again = run_one(reopen(rma))
    assert again.outcome is Outcome.PASS, again.failure
    assert again.record.payload["links"]["supersedes"] == verdict.record.record_id
    assert step_of(again, "wipe")["detail"]["method"] == "none"


def customer_wipe(line: Line, verdict: Verdict) -> None:
    """The owner wipes the unit with its own login (the profile's batch key) and it reboots wiped."""
    token = line.login(verdict)
    assert simtools.post(line.url(), CONFIG, {"wipeout": True}, token).status_code == 200
    client = unit_client(line)
    while True:  # the simulated reboot is immediate (fast timing); a request may still be dropped once
        try:
            if not client.status().inited:
                return
        except (DeviceTimeout, DeviceUnreachable):
            continue  # the unit is rebooting


def test_a_foreign_certificate_is_refused_before_or_after_the_wipe(
    line_factory: LineFactory, reopen: Reopen, tmp_path: Path
) -> None:
    line = line_factory(network=[{}, {}])
    backend_key = FileKeyStore(line.data_dir / "keys").x25519("checkin")
    other_factory = LocalBackend(FileKeyStore(tmp_path / "other-factory"), name="other-factory")
    for index in (0, 1):
        provision_with(other_factory, line.url(index), backend_key)
    simtools.personalise(line.url(1), backend_key)  # unit 1 also personalised by its owner
    rma = reopen(line)
    verdicts = {verdict.slot: verdict for verdict in rma.run(units=2)}

    step, code, message = failure_of(verdicts["N1"])
    assert (step, code) == ("identify", "foreign-certificate")
    assert "not signed by the factory CA" in message and "nothing was written" in message
    assert "csr" not in rma.attestation(index=0)  # its certificate stays, nothing else was touched
    step, code, message = failure_of(verdicts["N2"])
    assert (step, code) == ("attest", "foreign-certificate")
    assert "it was wiped" in message
    for verdict in verdicts.values():
        assert verdict.record.payload["provisioning"] is None  # a foreign certificate is not our evidence
    verify_ok(rma)


def provision_with(backend: LocalBackend, url: str, checkin_key: bytes) -> None:
    """Another factory's certificate in the unit's secure element (check-in first: fresh ``genuine``)."""
    simtools.checkin(url, checkin_key).raise_for_status()
    attestation = ok_json(simtools.get(url, ATTESTATION))
    der = backend.issue_device_certificate(attestation["csr"], attestation["key"], attestation["genuine"])
    body = {"crt": codec.b64encode(der), "genuine": attestation["genuine"]}
    assert simtools.post(url, "/api/system/config/provisioning", body).status_code == 200


# --- unknown units and wrong passphrases --------------------------------------------------------------------


def test_an_unknown_unit_is_refused_by_default_and_accepted_when_the_policy_says_so(
    line_factory: LineFactory, reopen: Reopen
) -> None:
    line = line_factory(network=[{}])  # a unit no station of this line ever made
    refusing = reopen(line)
    refused = run_one(refusing)
    step, code, message = failure_of(refused)
    assert (step, code) == ("history", "unknown-unit")
    assert "no record of this unit" in message and 'unknown_unit = "accept"' in message
    assert "nothing was written" in message
    assert step_of(refused, "history")["detail"]["decision"] == "refuse-unknown-unit"

    accepting = reopen(refusing, unknown_unit="accept")
    assert "csr" in accepting.attestation()  # the refusal wrote nothing: still blank
    accepted = run_one(accepting)
    assert accepted.outcome is Outcome.PASS, accepted.failure
    record = accepted.record.payload
    history = step_of(accepted, "history")["detail"]
    assert history["decision"] == "accept-unknown-unit" and history["unknown_unit"] == "accept"
    assert "accepted as an unknown unit" in history["message"]
    assert record["operator"] == {"id": "station", "role": "operator"}  # who decided, in the record
    assert record["links"]["supersedes"] is None
    assert record["provisioning"]["refusal_status"] == 406
    verify_ok(accepting)
    assert accepting.station.store.find_production(devid=record["unit"]["devid"]) is None


def test_a_wrong_customer_passphrase_fails_cleanly_and_wipes_nothing(
    line_factory: LineFactory, reopen: Reopen
) -> None:
    wrong = "not the customer's passphrase 42"
    line, made = produce(line_factory)
    rma = reopen(line, customer_passphrase=Customer(wrong))
    verdict = run_one(rma)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("identify", "wrong-passphrase")
    assert "refused a login with the customer passphrase" in message and "Nothing was wiped" in message
    assert wrong not in verdict.record.jws and wrong not in repr(verdict)
    assert rma.status().get("inited", True) is True
    token = line.login(made)  # the owner's key still opens it: the unit is untouched
    assert ok_json(simtools.get(rma.url(), CONFIG, token))["eid"] == made.record.payload["unit"]["eid"]


def test_production_shows_a_repaired_unit_as_passed_and_refuses_it_once_wiped(
    line_factory: LineFactory, reopen: Reopen
) -> None:
    line, made = produce(line_factory)
    rma = reopen(line, customer_passphrase=Customer(BATCH_PASSPHRASE))
    repaired = run_one(rma)
    assert repaired.outcome is Outcome.PASS, repaired.failure

    production = reopen(rma, "production")
    shown, _ = shown_as_passed(production)  # unchanged since its repair: no run, no record
    assert (shown.unit_id, shown.record_id) == (made.record.devid, repaired.record.record_id)
    customer_wipe(production, repaired)
    refused = run_one(production)
    step, code, message = failure_of(refused)
    assert (step, code) == ("attest", "already-provisioned")
    assert made.record.record_id in message  # the registry still names the production record
    assert refused.record.devid == made.record.devid  # and the refusal names the unit it leads to
