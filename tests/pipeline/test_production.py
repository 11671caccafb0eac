"""The production flow end to end over simulated units: what passes, what is refused, and why.

Each case runs a real station (``Station.open`` on a ``station.toml`` in tmp) against simulated PPAs over
HTTP on 127.0.0.1, then checks three things: the verdict (outcome, step, code, a message that says what
happened in plain words), the signed record, and the unit's real state read back over HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from station.app.data import StationData
from station.cli.records import cmd_verify
from station.core import codec
from station.core.events import Outcome
from station.devices.ppa import protocol
from station.factory.backend import Backend
from station.factory.keys.keystore import FileKeyStore
from station.factory.keys.secrets import UnitSecrets, derive_keys
from station.sim.ppa import cfgcheck
from station.sim.ppa.images import TEST_VENDOR_PUBLIC_KEY
from station.sim.ppa.routes import attestation as attestation_route
from station.sim.ppa.routes import auth as auth_route
from station.sim.ppa.state import DeviceConfig
from tests import simtools
from tests.firmwaretools import shipped_config
from tests.pipeline.conftest import (
    CONFIG,
    PROFILE,
    STATION_ID,
    STEPS,
    VERSION,
    LineFactory,
    failure_of,
    ok_json,
    step_of,
)

UPGRADED_FWV = "Encedo nGINE FW v1.2.3"


# --- the happy path ----------------------------------------------------------------------------------------


def test_a_fresh_unit_passes_and_its_record_matches_the_unit(line_factory: LineFactory) -> None:
    line = line_factory()
    unit = line.unit()
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.failure is None
    record = verdict.record.payload
    assert record["outcome"] == "pass"
    assert record["simulated"] is True
    assert record["station"]["id"] == STATION_ID
    assert [step["name"] for step in record["steps"]] == list(STEPS)
    assert all(step["outcome"] == "pass" and step["attempts"] == 1 for step in record["steps"])

    # identity: what the unit itself reports, read with the user key the batch policy gives it
    token = line.login(verdict)
    config = ok_json(simtools.get(line.url(), CONFIG, token))
    identity = record["unit"]
    assert identity["devid"] == config["devid"] == unit.devid
    assert identity["genuine_id"] == config["genuine_id"]
    assert identity["eid"] == config["eid"]
    assert identity["eid_sign"] == config["eid_sign"]
    assert identity["instanceid"] == config["instanceid"] == unit.state.instanceid
    assert identity["fwv"] == ok_json(simtools.get(line.url(), VERSION))["fwv"]

    # provisioning: the certificate the secure element now returns, and the refused second attempt
    provisioning = record["provisioning"]
    crt = line.attestation(token)["crt"]
    assert provisioning["crt"] == crt
    assert provisioning["crt_sha256"] == hashlib.sha256(codec.b64decode(crt)).hexdigest()
    assert provisioning["refusal_status"] == 406
    certificate = x509.load_der_x509_certificate(codec.b64decode(crt))
    assert certificate.issuer == line.station.ca_certificate().subject
    assert step_of(verdict, "verify-lock")["detail"]["message"].startswith("second provisioning refused")

    # personalisation: the profile's public values and the public halves of the batch keys
    personalization = record["personalization"]
    masterkey, userkey = derive_keys(
        UnitSecrets(line.environ["PPA_TEST_PASSPHRASE"], line.environ["PPA_TEST_MNEMONIC"]), config["eid"]
    ).public()
    assert personalization["profile"] == "default"
    assert (personalization["masterkey"], personalization["userkey"]) == (masterkey, userkey)
    for name in ("user", "email", "hostname"):
        assert personalization[name] == config[name] == PROFILE[name]
    assert "sealed_secrets" not in personalization  # the batch policy keeps its secrets outside records

    status = line.status()
    assert "inited" not in status  # sent (false) only while not personalised
    assert line.verify().ok
    data = StationData.open(line.config, data_dir=line.data_dir)  # as `station records verify` opens it
    assert cmd_verify(data.store_path, data.trusted_keys(), data.ca_certificate()) == 0


# --- firmware ----------------------------------------------------------------------------------------------


def test_an_old_firmware_is_upgraded_before_provisioning(line_factory: LineFactory) -> None:
    line = line_factory(firmware=shipped_config(UPGRADED_FWV))  # the shipped TEST image and release key
    assert line.unit().state.firmware.fwv == "Encedo nGINE FW v1.2.2"
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert verdict.record.payload["unit"]["fwv"] == UPGRADED_FWV
    detail = step_of(verdict, "firmware")["detail"]["message"]
    assert "upgraded" in detail
    assert UPGRADED_FWV in detail
    assert ok_json(simtools.get(line.url(), VERSION))["fwv"] == UPGRADED_FWV


def test_a_unit_trusting_another_vendor_key_refuses_the_image_and_keeps_its_firmware(
    line_factory: LineFactory,
) -> None:
    other_vendor = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert other_vendor != codec.b64decode(TEST_VENDOR_PUBLIC_KEY)
    line = line_factory(firmware=shipped_config(UPGRADED_FWV), network=[{"vendor_key": other_vendor}])
    unit = line.extra_units[0]
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("firmware", "image-refused")  # the unit's own check is the real one
    assert "refused" in message
    assert unit.state.firmware.pending_install is None  # never installed
    assert ok_json(simtools.get(unit.http_url, VERSION))["fwv"] == "Encedo nGINE FW v1.2.2"


# --- units that are not factory-fresh ----------------------------------------------------------------------


def test_an_already_personalised_unit_fails_at_identify(line_factory: LineFactory) -> None:
    line = line_factory()
    simtools.personalise(line.url(), FileKeyStore(line.data_dir / "keys").x25519("checkin"))  # by its owner
    (second,) = line.run()

    step, code, message = failure_of(second)
    assert second.outcome is Outcome.FAIL
    assert (step, code) == ("identify", "already-personalised")
    assert "already personalised" in message
    assert [s["name"] for s in second.record.payload["steps"]] == ["identify"]
    assert second.record.payload["provisioning"] is None


def test_a_unit_in_fail_state_is_set_aside(line_factory: LineFactory) -> None:
    line = line_factory()
    line.unit().state.fls_state = 0x40
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("identify", "fail-state")
    assert "locked by the backend" in message
    assert line.status()["fls_state"] == 0x40
    assert line.unit().state.se_certificate is None


def test_a_secure_element_provisioned_by_an_earlier_record_is_not_provisioned_again(
    line_factory: LineFactory,
) -> None:
    line = line_factory()
    unit = line.unit()
    (first,) = line.run()
    assert first.outcome is Outcome.PASS, first.failure
    crt = first.record.payload["provisioning"]["crt"]
    unit.state.wipe()  # a factory reset keeps the secure element's certificate (reference §18.9)
    unit.reboot_now()
    (second,) = line.run()

    step, code, message = failure_of(second)
    assert second.outcome is Outcome.FAIL
    assert (step, code) == ("attest", "already-provisioned")
    assert f"station {STATION_ID}" in message
    assert f"record {first.record.record_id}" in message
    assert "provision" not in [s["name"] for s in second.record.payload["steps"]]
    assert line.attestation()["crt"] == crt  # fresh again (no token needed), same certificate
    assert "inited" in line.status()  # ... and not personalised a second time
    assert line.verify().ok


def test_a_certificate_no_record_explains_is_foreign(line_factory: LineFactory) -> None:
    line = line_factory()
    unit = line.unit()
    unit.state.se_certificate = _self_signed_for(unit.state.hardware.se_key, unit.state.hardware.genuine_id)
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("attest", "foreign-certificate")
    assert "no record" in message
    assert "crt" in line.attestation()
    assert "inited" in line.status()


# --- attestations and certificates that must be refused before anything is written --------------------------


class OtherKeyBackend:
    """The station's real backend, asked to certify a different P-256 key than the unit's (a CA mix-up)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.other = ec.generate_private_key(ec.SECP256R1())

    def checkin(self, check: str, *, action: str = "OK") -> str:
        return self.inner.checkin(check, action=action)

    def issue_device_certificate(self, csr_pem: str, key_b64: str, genuine: str) -> bytes:
        subject = x509.load_pem_x509_csr(csr_pem.encode("ascii")).subject
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(self.other, hashes.SHA256())
        spki = self.other.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        own_genuine = protocol.make_genuine(self.other, int(dt.datetime.now(dt.UTC).timestamp()))
        return self.inner.issue_device_certificate(
            csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            codec.b64encode(spki),
            own_genuine,
        )

    def ca_certificate(self) -> x509.Certificate:
        return self.inner.ca_certificate()

    def checkin_public_key(self) -> bytes:
        return self.inner.checkin_public_key()


def test_a_certificate_for_another_key_is_refused_before_provisioning(line_factory: LineFactory) -> None:
    line = line_factory()
    line.station.backend = OtherKeyBackend(line.station.backend)
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("certificate", "wrong-certificate")
    assert "another key" in message
    assert "csr" in line.attestation()  # the secure element is still blank
    assert line.unit().state.se_certificate is None
    assert verdict.record.payload["provisioning"] is None


def test_a_genuine_token_from_another_key_is_refused(
    line_factory: LineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    real_make_genuine = protocol.make_genuine  # the route imported it; it is patched there below

    def impostor_genuine(se_key: ec.EllipticCurvePrivateKey, timestamp: int) -> str:
        return real_make_genuine(impostor, timestamp)

    monkeypatch.setattr(attestation_route, "make_genuine", impostor_genuine)
    line = line_factory()
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("attest", "bad-genuine")
    assert "another key" in message
    assert "csr" in line.attestation()
    assert "inited" in line.status()
    assert [s["name"] for s in verdict.record.payload["steps"]][-1] == "attest"


# --- personalisation that does not stick -------------------------------------------------------------------


def test_a_unit_that_stores_another_configuration_fails_verification(
    line_factory: LineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply = cfgcheck.apply_fields  # the route imported it; it is patched there below

    def apply_but_mislabel(config: DeviceConfig, values: Mapping[str, Any], names: Any) -> bool:
        changed = real_apply(config, values, names)
        config.user = "Somebody Else"
        return changed

    monkeypatch.setattr(auth_route, "apply_fields", apply_but_mislabel)
    line = line_factory()
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("verify", "config-mismatch")
    assert re.search(r"user: unit has 'Somebody Else', profile says 'Line Seven'", message)
    token = line.login(verdict)
    assert ok_json(simtools.get(line.url(), CONFIG, token))["user"] == "Somebody Else"


# --- bookkeeping ------------------------------------------------------------------------------------------


def test_every_unit_gets_exactly_one_record_and_the_chain_verifies(line_factory: LineFactory) -> None:
    line = line_factory(fixtures=2)
    line.unit(0).state.fls_state = 0x01  # the first unit in A1 fails at once; A1 then gets fresh units
    verdicts = line.run(units=5)

    records = line.records()
    assert len(records) == len(verdicts) == 5
    assert sorted(r.record_id for r in records) == sorted(v.record.record_id for v in verdicts)
    assert [r.seq for r in records] == list(range(1, 6))
    assert sum(v.outcome is Outcome.PASS for v in verdicts) == 4
    assert len({v.run_id for v in verdicts}) == 5
    assert line.station.store.open_runs() == []
    report = line.verify()
    assert report.ok, report


def _self_signed_for(se_key: ec.EllipticCurvePrivateKey, genuine_id: str) -> bytes:
    """A certificate for the secure element's own key from a CA this line has never heard of."""
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"#{genuine_id}")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Somebody Else's CA")]))
        .public_key(se_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(stranger, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)
