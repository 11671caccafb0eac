"""Secure-element attestation and provisioning on the simulated unit (reference §3.4-§3.6, §18.5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from station.core import codec
from station.devices.ppa import protocol as p
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.simtools import back_after_restart, checkin, get, personalise, post, reboot, settle

ATTESTATION = "/api/system/config/attestation"
PROVISIONING = "/api/system/config/provisioning"
IAT = 1_700_000_000


def attest(unit: SimulatedPpa, token: str | None = None) -> dict[str, Any]:
    response = get(unit.http_url, ATTESTATION, token)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return dict(response.json())


def se_public_key(attestation: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(codec.b64decode(attestation["key"]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def certificate_for(public_key: ec.EllipticCurvePublicKey, cn: str = "#0123") -> bytes:
    """A device certificate for ``public_key`` from a throwaway CA (the unit does not check the issuer)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Throwaway Test CA")]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.SubjectKeyIdentifier(p.attestation_ski(public_key)), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def provision(unit: SimulatedPpa, crt: Any, genuine: Any) -> requests.Response:
    return post(unit.http_url, PROVISIONING, {"crt": crt, "genuine": genuine})


def provision_properly(unit: SimulatedPpa) -> bytes:
    """Run the factory flow: attestation → certificate for its key → provisioning. Returns the DER."""
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    response = provision(unit, codec.b64encode(der), attestation["genuine"])
    assert response.status_code == 200
    return der


def device_time(unit: SimulatedPpa) -> int:
    status = get(unit.http_url, "/api/system/status").json()
    return int(status.get("time", status["uptime"]))


# --- GET attestation -------------------------------------------------------------------------------------


def test_fresh_unit_attests_without_auth_with_csr_key_and_genuine(unit: SimulatedPpa) -> None:
    attestation = attest(unit)
    assert set(attestation) == {"csr", "key", "genuine"}
    key = se_public_key(attestation)
    assert isinstance(key.curve, ec.SECP256R1)
    csr = x509.load_pem_x509_csr(attestation["csr"].encode("ascii"))
    assert csr.is_signature_valid
    csr_key = csr.public_key()
    assert isinstance(csr_key, ec.EllipticCurvePublicKey)
    assert codec.p256_uncompressed(csr_key) == codec.p256_uncompressed(key)
    assert (
        csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == "#" + unit.state.hardware.genuine_id
    )
    genuine = p.verify_genuine(attestation["genuine"], key, now=device_time(unit))
    assert genuine.ski == p.attestation_ski(key)


def test_genuine_carries_the_device_time(
    unit: SimulatedPpa, manual_time: ManualTime, backend_private: bytes
) -> None:
    manual_time.advance(42)
    assert p.parse_genuine(attest(unit)["genuine"]).timestamp == 42  # seconds since boot before check-in
    assert checkin(unit.http_url, backend_private, iat=IAT).status_code == 200
    assert p.parse_genuine(attest(unit)["genuine"]).timestamp == IAT


def test_attestation_over_https(unit: SimulatedPpa) -> None:
    response = get(unit.https_url, ATTESTATION)
    assert response.status_code == 200
    assert "csr" in response.json()


def test_personalised_unit_needs_a_token(unit: SimulatedPpa, backend_private: bytes) -> None:
    done = personalise(unit.http_url, backend_private)
    settle(unit)
    refused = get(unit.http_url, ATTESTATION)
    assert refused.status_code == 401
    assert refused.content == b""
    assert set(attest(unit, done.token)) == {"csr", "key", "genuine"}  # any valid bearer, scope ignored


def test_invalid_token_is_401_even_on_a_fresh_unit(unit: SimulatedPpa) -> None:
    assert get(unit.http_url, ATTESTATION, "not.a.token").status_code == 401


def test_locked_unit_is_409(unit: SimulatedPpa, backend_private: bytes) -> None:
    assert checkin(unit.http_url, backend_private, status="L").json() == {"status": "L"}
    response = get(unit.http_url, ATTESTATION)
    assert response.status_code == 409
    assert response.content == b""


def test_locked_personalised_unit_is_409_even_with_a_token(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    done = personalise(unit.http_url, backend_private)
    settle(unit)
    assert checkin(unit.http_url, backend_private, status="L").json() == {"status": "L"}
    assert get(unit.http_url, ATTESTATION, done.token).status_code == 409
    assert get(unit.http_url, ATTESTATION).status_code == 409


def test_origin_not_allowed_is_412(unit: SimulatedPpa, backend_private: bytes) -> None:
    done = personalise(unit.http_url, backend_private, origin="https://factory.example")
    settle(unit)
    headers = {"Origin": "https://elsewhere.example"}
    assert get(unit.http_url, ATTESTATION, done.token, headers=headers).status_code == 412
    assert post(unit.http_url, PROVISIONING, {"crt": "", "genuine": ""}, headers=headers).status_code == 412
    allowed = get(unit.http_url, ATTESTATION, done.token, headers={"Origin": "https://factory.example"})
    assert allowed.status_code == 200


# --- POST provisioning -----------------------------------------------------------------------------------


def test_provisioning_stores_the_certificate(unit: SimulatedPpa) -> None:
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    response = provision(unit, codec.b64encode(der), attestation["genuine"])
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Type"] == "application/json"
    after = attest(unit)
    assert set(after) == {"crt", "genuine"}
    assert codec.b64decode(after["crt"]) == der
    cert_key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(cert_key, ec.EllipticCurvePublicKey)
    p.verify_genuine(after["genuine"], cert_key, now=device_time(unit))


def test_provisioning_accepts_url_safe_base64(unit: SimulatedPpa) -> None:
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    assert provision(unit, codec.b64url_encode(der), attestation["genuine"]).status_code == 200
    assert codec.b64decode(attest(unit)["crt"]) == der


def test_provisioning_is_one_shot(unit: SimulatedPpa) -> None:
    der = provision_properly(unit)
    again = attest(unit)
    for _ in range(2):
        refused = provision(unit, codec.b64encode(der), again["genuine"])
        assert refused.status_code == 406
        assert refused.content == b""
    cert_key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(cert_key, ec.EllipticCurvePublicKey)
    other = certificate_for(cert_key)
    assert provision(unit, codec.b64encode(other), again["genuine"]).status_code == 406
    assert codec.b64decode(attest(unit)["crt"]) == der


def test_already_provisioned_is_checked_before_the_body(unit: SimulatedPpa) -> None:
    provision_properly(unit)
    assert provision(unit, "not base64!", None).status_code == 406


@pytest.mark.parametrize(
    "crt",
    [None, 17, "", "not base64!", codec.b64encode(b"garbage"), codec.b64encode(b"\x30\x03\x02\x01\x01")],
)
def test_undecodable_certificate_is_400(unit: SimulatedPpa, crt: Any) -> None:
    attestation = attest(unit)
    response = provision(unit, crt, attestation["genuine"])
    assert response.status_code == 400
    assert response.content == b""
    assert "csr" in attest(unit)  # nothing stored


def test_missing_certificate_is_400(unit: SimulatedPpa) -> None:
    assert post(unit.http_url, PROVISIONING, {"genuine": attest(unit)["genuine"]}).status_code == 400


def test_certificate_is_checked_before_genuine(unit: SimulatedPpa) -> None:
    assert provision(unit, "not base64!", "nonsense").status_code == 400


def test_a_chain_is_not_a_certificate(unit: SimulatedPpa) -> None:
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    assert provision(unit, codec.b64encode(der + der), attestation["genuine"]).status_code == 400


@pytest.mark.parametrize("genuine", [None, 5, "", "abc", "a.b.c", "AAAA.MTIz.AAAA"])
def test_missing_or_malformed_genuine_is_406(unit: SimulatedPpa, genuine: Any) -> None:
    der = certificate_for(se_public_key(attest(unit)))
    response = provision(unit, codec.b64encode(der), genuine)
    assert response.status_code == 406
    assert "csr" in attest(unit)


def test_genuine_without_a_field_is_406(unit: SimulatedPpa) -> None:
    der = certificate_for(se_public_key(attest(unit)))
    assert post(unit.http_url, PROVISIONING, {"crt": codec.b64encode(der)}).status_code == 406


def test_stale_genuine_is_406(unit: SimulatedPpa, manual_time: ManualTime) -> None:
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    manual_time.advance(601)
    assert provision(unit, codec.b64encode(der), attestation["genuine"]).status_code == 406
    assert "csr" in attest(unit)


def test_genuine_600_seconds_old_is_accepted(unit: SimulatedPpa, manual_time: ManualTime) -> None:
    attestation = attest(unit)
    der = certificate_for(se_public_key(attestation))
    manual_time.advance(600)
    assert provision(unit, codec.b64encode(der), attestation["genuine"]).status_code == 200


@pytest.mark.parametrize(("ahead", "status"), [(60, 200), (61, 406)])
def test_genuine_from_the_future(unit: SimulatedPpa, ahead: int, status: int) -> None:
    # Only the unit's own SE key can make a token for a time it has not reached yet.
    se_key = unit.state.hardware.se_key
    der = certificate_for(se_key.public_key())
    genuine = p.make_genuine(se_key, device_time(unit) + ahead)
    assert provision(unit, codec.b64encode(der), genuine).status_code == status


def test_genuine_from_before_a_checkin_is_stale_afterwards(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    attestation = attest(unit)  # timestamp counts from boot
    der = certificate_for(se_public_key(attestation))
    assert checkin(unit.http_url, backend_private, iat=IAT).status_code == 200
    assert provision(unit, codec.b64encode(der), attestation["genuine"]).status_code == 406
    assert provision(unit, codec.b64encode(der), attest(unit)["genuine"]).status_code == 200


def test_genuine_of_another_unit_is_406(unit: SimulatedPpa, manual_time: ManualTime) -> None:
    with SimulatedPpa(backend_key=unit.backend_key, monotonic=manual_time) as other:
        foreign = attest(other)["genuine"]
    der = certificate_for(se_public_key(attest(unit)))
    assert provision(unit, codec.b64encode(der), foreign).status_code == 406
    assert "csr" in attest(unit)


def test_certificate_for_another_key_is_406(unit: SimulatedPpa, manual_time: ManualTime) -> None:
    attestation = attest(unit)
    stranger = certificate_for(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert provision(unit, codec.b64encode(stranger), attestation["genuine"]).status_code == 406
    with SimulatedPpa(backend_key=unit.backend_key, monotonic=manual_time) as other:
        neighbour = certificate_for(se_public_key(attest(other)))
    assert provision(unit, codec.b64encode(neighbour), attestation["genuine"]).status_code == 406
    assert "csr" in attest(unit)


def test_certificate_with_a_non_ec_key_is_406(unit: SimulatedPpa) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ed25519.Ed25519PrivateKey.generate().public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    assert provision(unit, codec.b64encode(der), attest(unit)["genuine"]).status_code == 406


def test_personalised_unit_is_403(unit: SimulatedPpa, backend_private: bytes) -> None:
    done = personalise(unit.http_url, backend_private)
    settle(unit)
    attestation = attest(unit, done.token)
    der = certificate_for(se_public_key(attestation))
    refused = provision(unit, codec.b64encode(der), attestation["genuine"])
    assert refused.status_code == 403
    assert refused.content == b""
    assert "csr" in attest(unit, done.token)


def test_personalised_is_checked_before_provisioned(unit: SimulatedPpa, backend_private: bytes) -> None:
    der = provision_properly(unit)
    done = personalise(unit.http_url, backend_private)
    settle(unit)
    assert provision(unit, codec.b64encode(der), attest(unit, done.token)["genuine"]).status_code == 403
    assert provision(unit, "not base64!", None).status_code == 403


def test_provisioning_transport_errors(unit: SimulatedPpa) -> None:
    url = unit.http_url + PROVISIONING
    headers = {"Content-Type": "application/json"}
    assert requests.post(url, data=b"", headers=headers, timeout=10).status_code == 411
    assert (
        requests.post(url, data=b'{"crt":"' + b"A" * 7300 + b'"}', headers=headers, timeout=10).status_code
        == 413
    )
    assert requests.post(url, data=b"{crt", headers=headers, timeout=10).status_code == 400


# --- the certificate outlives a wipe ----------------------------------------------------------------------


def test_certificate_survives_a_checkin_wipe(unit: SimulatedPpa, backend_private: bytes) -> None:
    der = provision_properly(unit)
    personalise(unit.http_url, backend_private)
    settle(unit)
    eid = unit.state.instance.eid_public
    assert checkin(unit.http_url, backend_private, status="W").json() == {"status": "W"}
    assert back_after_restart(unit)["inited"] is False
    assert unit.state.instance.eid_public != eid
    after = attest(unit)  # fresh again: no token needed
    assert set(after) == {"crt", "genuine"}
    assert codec.b64decode(after["crt"]) == der
    assert provision(unit, codec.b64encode(der), after["genuine"]).status_code == 406


def test_certificate_survives_a_reboot(unit: SimulatedPpa) -> None:
    der = provision_properly(unit)
    reboot(unit)
    assert codec.b64decode(attest(unit)["crt"]) == der
