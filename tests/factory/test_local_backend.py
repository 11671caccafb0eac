"""LocalBackend against a simulated unit: check-in, certificate issuance, refusals, provisioning."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.core.config import KeysSection
from station.core.errors import BackendRefused, VerificationError
from station.devices.ppa import protocol as p
from station.factory.backend import LocalBackend
from station.factory.ca import ENCEDO_SAN_OID, certificate_matches_key, verify_device_certificate
from station.factory.keys.keystore import FileKeyStore
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.factory.conftest import (
    ATTESTATION,
    NOW,
    PROVISIONING,
    SettableClock,
    check_in,
    csr_pem,
    get_json,
    post,
    spki_b64,
)


def attested(unit: SimulatedPpa, backend: LocalBackend) -> dict[str, Any]:
    """Check the unit in with ``backend`` (its clock becomes real time), then read its attestation."""
    assert check_in(unit.http_url, backend.checkin)["status"] == "OK"
    return get_json(unit.http_url, ATTESTATION)


def se_key(attestation: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(codec.b64decode(attestation["key"]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


# --- check-in ---------------------------------------------------------------------------------------------


def test_checkin_sets_the_unit_clock_to_the_backend_clock(
    trusting_unit: SimulatedPpa, backend: LocalBackend
) -> None:
    assert check_in(trusting_unit.http_url, backend.checkin) == {"status": "OK"}
    assert get_json(trusting_unit.http_url, "/api/system/status")["time"] == NOW


def test_checkin_carries_the_action(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    reply = check_in(trusting_unit.http_url, lambda check: backend.checkin(check, action="R"))
    assert reply["status"] == "R"
    with pytest.raises(ValueError, match="unknown check-in action"):
        backend.checkin("x.y.z", action="WIPE")


def test_check_from_a_unit_trusting_another_backend_is_refused(
    backend: LocalBackend, manual_time: ManualTime
) -> None:
    other = codec.x25519_public_key(bytes(range(32)))
    with SimulatedPpa(backend_key=other, monotonic=manual_time) as stranger:
        check = get_json(stranger.http_url, "/api/system/checkin")["check"]
    with pytest.raises(BackendRefused, match="another backend key"):
        backend.checkin(check)


def test_forged_or_garbage_check_is_refused(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    check = get_json(trusting_unit.http_url, "/api/system/checkin")["check"]
    header, claims, _ = check.split(".")
    forged = f"{header}.{claims}.{codec.b64url_encode(bytes(32))}"
    with pytest.raises(BackendRefused, match="signature does not verify"):
        backend.checkin(forged)
    with pytest.raises(BackendRefused, match="check token refused"):
        backend.checkin("not a jwt")


# --- the CA -----------------------------------------------------------------------------------------------


def test_ca_certificate_is_created_once_and_kept_beside_the_key(
    keystore: FileKeyStore, clock: SettableClock, backend: LocalBackend
) -> None:
    ca = backend.ca_certificate()
    assert ca.subject.rfc4514_string() == "CN=PPA Factory CA test-st01"
    assert ca.issuer == ca.subject
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.not_valid_before_utc == dt.datetime.fromtimestamp(NOW, dt.UTC)
    assert ca.not_valid_after_utc.year == ca.not_valid_before_utc.year + 10
    stored = keystore.folder / "factory-ca.crt.pem"
    assert x509.load_pem_x509_certificate(stored.read_bytes()) == ca
    clock.advance(86_400)
    assert LocalBackend(keystore, clock=clock, name="other").ca_certificate() == ca


def test_from_keys_uses_the_configured_uris(tmp_path: Path, clock: SettableClock) -> None:
    keys = KeysSection(ca="file:ca/root.pem", checkin="file:ck/in.key")
    backend = LocalBackend.from_keys(keys, tmp_path, name="line1", clock=clock)
    assert (tmp_path / "ca" / "root.crt.pem").exists()
    assert codec.x25519_public_key(FileKeyStore(tmp_path / "ck").x25519("in")) == backend.checkin_public_key()


# --- issuance ---------------------------------------------------------------------------------------------


def test_certificate_for_the_unit_verifies_and_the_unit_accepts_it(
    trusting_unit: SimulatedPpa, backend: LocalBackend
) -> None:
    att = attested(trusting_unit, backend)
    der = backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])
    ca = backend.ca_certificate()
    cert = verify_device_certificate(der, ca, at=dt.datetime.fromtimestamp(NOW, dt.UTC))
    key = se_key(att)
    genuine_id = trusting_unit.state.hardware.genuine_id

    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"#{genuine_id}"
    assert cert.issuer == ca.subject
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert ski == hashlib.sha1(codec.p256_uncompressed(key)).digest()  # noqa: S324 - the SKI is SHA-1
    assert ski == p.parse_genuine(att["genuine"]).ski
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (other,) = san.get_values_for_type(x509.OtherName)
    assert other.type_id == ENCEDO_SAN_OID
    assert other.value == b"\x04\x14" + hashlib.sha1(bytes.fromhex(genuine_id)).digest()  # noqa: S324
    assert cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha256"
    assert 0 < cert.serial_number < 2**159
    assert cert.not_valid_after_utc.year == cert.not_valid_before_utc.year + 3
    assert certificate_matches_key(der, att["key"])

    accepted = post(
        trusting_unit.http_url, PROVISIONING, {"crt": codec.b64encode(der), "genuine": att["genuine"]}
    )
    assert accepted.status_code == 200
    assert get_json(trusting_unit.http_url, ATTESTATION)["crt"] == codec.b64encode(der)
    again = post(
        trusting_unit.http_url, PROVISIONING, {"crt": codec.b64encode(der), "genuine": att["genuine"]}
    )
    assert again.status_code == 406


def test_serials_are_random(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    att = attested(trusting_unit, backend)
    serials = {
        x509.load_der_x509_certificate(
            backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])
        ).serial_number
        for _ in range(3)
    }
    assert len(serials) == 3


def test_genuine_for_another_key_is_refused(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    att = attested(trusting_unit, backend)
    stranger = p.make_genuine(ec.generate_private_key(ec.SECP256R1()), NOW)
    with pytest.raises(BackendRefused, match="genuine refused: genuine token belongs to another key"):
        backend.issue_device_certificate(att["csr"], att["key"], stranger)


def test_stale_genuine_is_refused(
    trusting_unit: SimulatedPpa, backend: LocalBackend, clock: SettableClock
) -> None:
    att = attested(trusting_unit, backend)
    clock.advance(601)
    with pytest.raises(BackendRefused, match="genuine refused: genuine token is stale"):
        backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])


def test_genuine_from_the_future_is_refused(
    trusting_unit: SimulatedPpa, backend: LocalBackend, clock: SettableClock
) -> None:
    att = attested(trusting_unit, backend)
    clock.advance(-61)
    with pytest.raises(BackendRefused, match="stale"):
        backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])


def test_genuine_within_the_window_is_accepted(
    trusting_unit: SimulatedPpa, backend: LocalBackend, clock: SettableClock
) -> None:
    att = attested(trusting_unit, backend)
    clock.advance(600)
    assert backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])
    clock.advance(-660)
    assert backend.issue_device_certificate(att["csr"], att["key"], att["genuine"])


def test_csr_for_another_key_is_refused(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    att = attested(trusting_unit, backend)
    other = csr_pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(BackendRefused, match="csr is for another key"):
        backend.issue_device_certificate(other, att["key"], att["genuine"])


def test_csr_with_a_bad_signature_is_refused(trusting_unit: SimulatedPpa, backend: LocalBackend) -> None:
    att = attested(trusting_unit, backend)
    der = bytearray(x509.load_pem_x509_csr(att["csr"].encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # last byte of the ECDSA signature's s
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(BackendRefused, match="csr signature does not verify"):
        backend.issue_device_certificate(tampered, att["key"], att["genuine"])


def test_csr_subject_must_name_the_secure_element(backend: LocalBackend, clock: SettableClock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    genuine = p.make_genuine(key, int(clock()))
    with pytest.raises(BackendRefused, match="CN is not #<genuine_id>"):
        backend.issue_device_certificate(csr_pem(key, cn="device"), spki_b64(key.public_key()), genuine)
    assert backend.issue_device_certificate(csr_pem(key), spki_b64(key.public_key()), genuine)


def test_key_must_be_a_p256_spki(backend: LocalBackend, clock: SettableClock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    genuine = p.make_genuine(key, int(clock()))
    with pytest.raises(BackendRefused, match="not a base64 DER SubjectPublicKeyInfo"):
        backend.issue_device_certificate(csr_pem(key), "!!", genuine)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    with pytest.raises(BackendRefused, match="not a P-256 public key"):
        backend.issue_device_certificate(csr_pem(key), spki_b64(p384), genuine)
    with pytest.raises(BackendRefused, match="csr is not a PEM"):
        backend.issue_device_certificate("garbage", spki_b64(key.public_key()), genuine)


# --- verify_device_certificate ----------------------------------------------------------------------------


def test_verify_refuses_another_ca_expiry_and_garbage(
    tmp_path: Path, backend: LocalBackend, clock: SettableClock
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = backend.issue_device_certificate(
        csr_pem(key), spki_b64(key.public_key()), p.make_genuine(key, int(clock()))
    )
    issued = dt.datetime.fromtimestamp(NOW, dt.UTC)
    verify_device_certificate(der, backend.ca_certificate(), at=issued)
    other = LocalBackend(FileKeyStore(tmp_path / "other"), clock=clock, name="test-st01")
    with pytest.raises(VerificationError, match="not signed by the factory CA"):
        verify_device_certificate(der, other.ca_certificate(), at=issued)
    with pytest.raises(VerificationError, match="not valid at"):
        verify_device_certificate(der, backend.ca_certificate(), at=issued + dt.timedelta(days=4 * 365))
    with pytest.raises(VerificationError, match="not DER"):
        verify_device_certificate(b"garbage", backend.ca_certificate())
    tampered = bytearray(der)
    tampered[-1] ^= 0x01
    with pytest.raises(VerificationError, match="not signed by the factory CA"):
        verify_device_certificate(bytes(tampered), backend.ca_certificate(), at=issued)
    assert not certificate_matches_key(der, spki_b64(ec.generate_private_key(ec.SECP256R1()).public_key()))
