"""Configuration endpoints on the simulated unit (reference §3.1-§3.3, §3.7, §18.7-§18.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.devices.ppa import protocol as p
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import issue_token
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.state import SD_CAPACITY_SECTORS
from tests.simtools import (
    MASTER_PRIVATE,
    USER_PRIVATE,
    back_after_restart,
    checkin,
    default_cfg,
    get,
    login,
    personalise,
    post,
    settle,
)

IAT = 1_700_000_000
CONFIG = "/api/system/config"
NEW_USER_PRIVATE = bytes(range(97, 129))
EXT_SUB = "Qq/EGdvacmNrN6JFWVXglQ=="  # a paired authenticator's KID, as in reference §1.4
FIELDS = {
    "iat", "uts", "devid", "instanceid", "eid", "eid_sign", "user", "email", "hostname", "dnsd",
    "trusted_ts", "trusted_backend", "allow_keysearch", "origin", "ctx", "http_option_hsts",
    "http_option_dosprot_mode", "ip", "genuine_id", "storage_mode", "storage_disk0size",
    "storage_capacity", "spk", "nonce",
}  # fmt: skip


@pytest.fixture
def url(unit: SimulatedPpa, backend_private: bytes) -> str:
    """A personalised unit with its clock standing at ``IAT``."""
    personalise(unit.http_url, backend_private)
    settle(unit)
    checkin(unit.http_url, backend_private, iat=IAT).raise_for_status()
    return unit.http_url


@pytest.fixture
def user_token(url: str) -> str:
    return login(url, "system:config")


def read(url: str, token: str) -> dict[str, Any]:
    response = get(url, CONFIG, token)
    assert response.status_code == 200
    return dict(response.json())


def settings(url: str, token: str) -> dict[str, Any]:
    """The configuration without the per-call values (``nonce``)."""
    body = read(url, token)
    del body["nonce"]
    return body


def certificate_b64(hostname: str = "my.ence.do") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    return codec.b64encode(cert.public_bytes(serialization.Encoding.DER))


CERT = certificate_b64()


def full_bundle() -> dict[str, str]:
    emp = ec.generate_private_key(ec.SECP256R1()).public_key()
    key = f"{codec.b64encode(bytes(16))}.{codec.b64encode(bytes(48))}"
    return {"emp": codec.b64encode(codec.p256_uncompressed(emp)), "key": key, "crt": certificate_b64()}


def events(unit: SimulatedPpa, event: Event) -> list[tuple[int, str]]:
    """(result, subject) of every record of ``event`` in the current log file."""
    text = unit.state.log.text(unit.state.log.current_id)
    records = [line.split("|") for line in text.splitlines() if not line.startswith("#")]
    return [(int(r[3]), r[4]) for r in records if int(r[2], 16) == event]


# --- GET ----------------------------------------------------------------------------------------------


def test_read_without_token_is_401_even_when_fresh(unit: SimulatedPpa, backend_private: bytes) -> None:
    assert get(unit.http_url, CONFIG).status_code == 401
    personalise(unit.http_url, backend_private)
    settle(unit)
    assert get(unit.http_url, CONFIG).status_code == 401


def test_read_returns_every_field(unit: SimulatedPpa, url: str, user_token: str) -> None:
    body = read(url, user_token)
    assert set(body) == FIELDS
    cfg = default_cfg()
    assert {k: body[k] for k in ("user", "hostname", "ip", "origin", "storage_mode")} == {
        k: cfg[k] for k in ("user", "hostname", "ip", "origin", "storage_mode")
    }
    assert body["devid"] == unit.devid
    assert body["genuine_id"] == unit.state.hardware.genuine_id
    assert codec.b64decode(body["eid"]) == unit.state.instance.eid_public
    assert codec.b64decode(body["eid_sign"]) == unit.state.instance.eid_sign_public
    assert body["storage_capacity"] == SD_CAPACITY_SECTORS
    assert body["spk"] == get(url, "/api/auth/token").json()["spk"]
    nonce = codec.b64decode(body["nonce"])
    assert len(nonce) == 32 and int.from_bytes(nonce[:4], "little") == IAT
    assert read(url, user_token)["nonce"] != body["nonce"]


@pytest.mark.parametrize("scope", ["system:config", "logger:get", "auth:ext:pair"])
def test_read_scopes(url: str, scope: str) -> None:
    assert get(url, CONFIG, login(url, scope)).status_code == 200


def test_read_by_master_and_external_authenticator(unit: SimulatedPpa, url: str) -> None:
    assert get(url, CONFIG, login(url, "logger:get", private=MASTER_PRIVATE)).status_code == 200
    ext = issue_token(unit, "auth:ext:pair", EXT_SUB)  # as POST /api/auth/ext/token would issue it
    assert get(url, CONFIG, ext).status_code == 200


def test_read_with_wrong_scope_is_403_and_logged(unit: SimulatedPpa, url: str) -> None:
    assert get(url, CONFIG, login(url, "keymgmt:list")).status_code == 403
    assert events(unit, Event.FAILED_SCOPE_CHECK) == [(Result.FAILED, "U")]


# --- POST on a fresh unit -----------------------------------------------------------------------------


def test_fresh_unit_takes_a_tls_bundle_without_token(unit: SimulatedPpa) -> None:
    bundle = full_bundle()
    response = post(unit.http_url, CONFIG, {"tls": bundle})
    assert (response.status_code, response.content) == (200, b"")
    assert unit.state.tls_bundle == bundle


@pytest.mark.parametrize("body", [{"user": "x"}, {"wipeout": True}, {"gen_csr": True}])
def test_fresh_unit_without_tls_is_406(unit: SimulatedPpa, body: dict[str, Any]) -> None:
    assert post(unit.http_url, CONFIG, body).status_code == 406
    assert unit.state.tls_bundle is None


@pytest.mark.parametrize(
    "tls",
    [
        "crt",
        {"crt": codec.b64encode(b"not a certificate")},
        {"crt": "%%%"},
        {"crt": CERT[:-8]},
        {"emp": codec.b64encode(bytes(65)), "crt": CERT},
        {"key": "AAAA.AAAA", "crt": CERT},
        {"emp": codec.b64encode(bytes(65)), "key": "no-dot", "crt": CERT},
    ],
)
def test_fresh_unit_refuses_a_malformed_bundle_with_400(unit: SimulatedPpa, tls: Any) -> None:
    assert post(unit.http_url, CONFIG, {"tls": tls}).status_code == 400
    assert unit.state.tls_bundle is None


# --- POST on a personalised unit: access --------------------------------------------------------------


def test_write_without_token_is_401(url: str) -> None:
    assert post(url, CONFIG, {"user": "x"}).status_code == 401


def test_write_with_read_only_scope_is_403_and_logged(unit: SimulatedPpa, url: str) -> None:
    assert post(url, CONFIG, {"user": "x"}, login(url, "logger:get")).status_code == 403
    assert events(unit, Event.FAILED_SCOPE_CHECK) == [(Result.FAILED, "U")]


def test_external_authenticator_cannot_write(unit: SimulatedPpa, url: str) -> None:
    ext = issue_token(unit, "system:config", EXT_SUB)
    assert post(url, CONFIG, {"user": "x"}, ext).status_code == 403


# --- POST on a personalised unit: updates -------------------------------------------------------------


def test_partial_update(unit: SimulatedPpa, url: str, user_token: str, manual_time: ManualTime) -> None:
    manual_time.advance(5)
    changes = {
        "user": "Bob",
        "email": "bob@example.com",
        "ctx": 3,
        "http_option_dosprot_mode": 4,
        "dnsd": True,
    }
    response = post(url, CONFIG, changes, user_token)
    assert response.status_code == 200
    assert response.json() == {"updated": True}
    body = read(url, user_token)
    assert {k: body[k] for k in changes} == changes
    assert body["uts"] == IAT + 5
    assert events(unit, Event.CONFIG_UPDATED) == [(Result.OK, "U")]


def test_master_may_write(url: str) -> None:
    token = login(url, "system:config", private=MASTER_PRIVATE)
    assert post(url, CONFIG, {"allow_keysearch": True}, token).json() == {"updated": True}


def test_unchanged_values_report_not_updated(url: str, user_token: str) -> None:
    before = settings(url, user_token)
    response = post(url, CONFIG, {"user": default_cfg()["user"], "trusted_ts": True}, user_token)
    assert response.json() == {"updated": False}
    assert settings(url, user_token) == before


def test_hostname_and_ip_are_ignored(url: str, user_token: str) -> None:
    before = settings(url, user_token)
    body = {"hostname": "other.ence.do", "ip": "10.1.1.1/8"}
    assert post(url, CONFIG, body, user_token).json() == {"updated": False}
    assert settings(url, user_token) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", "x" * 33),
        ("email", 5),
        ("origin", None),
        ("trusted_ts", "false"),
        ("trusted_backend", 0),
        ("allow_keysearch", None),
        ("ctx", "1"),
        ("http_option_hsts", 1),
        ("http_option_dosprot_mode", 5),
        ("http_option_dosprot_mode", -1),
        ("dnsd", "yes"),
        ("storage_mode", 0x52),
        ("storage_disk0size", 0),
        ("storage_disk0size", SD_CAPACITY_SECTORS),
        ("tls", {"crt": "garbage"}),
        ("gen_csr", 1),
        ("userkey", "short"),
    ],
)
def test_invalid_value_is_400_and_changes_nothing(url: str, user_token: str, field: str, value: Any) -> None:
    before = settings(url, user_token)
    response = post(url, CONFIG, {"user": "Changed", field: value}, user_token)
    assert response.status_code == 400
    assert response.json() == {"updated": False}
    assert settings(url, user_token) == before


# --- TLS and CSR --------------------------------------------------------------------------------------


def test_tls_on_a_personalised_unit_needs_a_reboot(unit: SimulatedPpa, url: str, user_token: str) -> None:
    bundle = full_bundle()
    response = post(url, CONFIG, {"tls": bundle}, user_token)
    assert response.json() == {"updated": True, "reboot_required": True}
    assert unit.state.tls_bundle == bundle


def test_certificate_alone_keeps_the_key(unit: SimulatedPpa, url: str, user_token: str) -> None:
    bundle = full_bundle()
    post(url, CONFIG, {"tls": bundle}, user_token).raise_for_status()
    renewed = certificate_b64()
    assert post(url, CONFIG, {"tls": {"crt": renewed}}, user_token).json()["reboot_required"] is True
    assert unit.state.tls_bundle == {**bundle, "crt": renewed}


def test_gen_csr_returns_csr_and_genuine(unit: SimulatedPpa, url: str, user_token: str) -> None:
    first = post(url, CONFIG, {"gen_csr": True}, user_token).json()
    assert set(first) == {"updated", "csr", "genuine"}
    csr = x509.load_pem_x509_csr(first["csr"].encode("ascii"))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == default_cfg()["hostname"]
    genuine = p.verify_genuine(first["genuine"], unit.state.hardware.se_key.public_key(), now=IAT)
    assert genuine.timestamp == IAT
    second = x509.load_pem_x509_csr(post(url, CONFIG, {"gen_csr": True}, user_token).json()["csr"].encode())
    assert second.public_key() == csr.public_key()  # made from the stored TLS key


def test_gen_csr_is_ignored_when_tls_is_imported(url: str, user_token: str) -> None:
    body = post(url, CONFIG, {"gen_csr": True, "tls": full_bundle()}, user_token).json()
    assert "csr" not in body and body["reboot_required"] is True


# --- user-key rotation (§3.3) -------------------------------------------------------------------------


def rotation(config: dict[str, Any], new_private: bytes = NEW_USER_PRIVATE) -> dict[str, str]:
    """The client side of §3.3 from a ``GET /api/system/config`` reply."""
    nonce = config["nonce"]
    mac = p.userkey_rotation_hmac(new_private, codec.b64decode(config["spk"]), codec.b64decode(nonce))
    return {"userkey": codec.x25519_public_b64(new_private), "userkey_nonce": nonce, "userkey_hmac": mac}


def test_rotation_end_to_end(url: str, user_token: str) -> None:
    response = post(url, CONFIG, rotation(read(url, user_token)), user_token)
    assert response.json() == {"updated": True}
    token = login(url, "system:config", private=NEW_USER_PRIVATE)
    assert p.parse_jwt(token).claims["sub"] == "U"
    with pytest.raises(requests.HTTPError) as refused:
        login(url, "system:config", private=USER_PRIVATE)
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("missing", ["userkey", "userkey_nonce", "userkey_hmac"])
def test_partial_rotation_triple_is_400(url: str, user_token: str, missing: str) -> None:
    body = rotation(read(url, user_token))
    del body[missing]
    response = post(url, CONFIG, body, user_token)
    assert (response.status_code, response.json()) == (400, {"updated": False})


def test_rotation_by_the_master_is_406(unit: SimulatedPpa, url: str) -> None:
    token = login(url, "system:config", private=MASTER_PRIVATE)
    assert post(url, CONFIG, rotation(read(url, token)), token).status_code == 406
    assert events(unit, Event.CONFIG_UPDATED) == [(Result.FAILED, "M")]
    login(url, "system:config", private=USER_PRIVATE)  # the user key is unchanged


def test_rotation_with_unknown_nonce_is_406(url: str, user_token: str) -> None:
    config = read(url, user_token) | {"nonce": codec.b64encode(p.make_nonce(IAT, bytes(28)))}
    assert post(url, CONFIG, rotation(config), user_token).status_code == 406


def test_rotation_with_expired_nonce_is_406(url: str, user_token: str, manual_time: ManualTime) -> None:
    config = read(url, user_token)
    manual_time.advance(61)
    assert post(url, CONFIG, rotation(config), user_token).status_code == 406


def test_rotation_nonce_is_single_use(url: str, user_token: str) -> None:
    body = rotation(read(url, user_token))
    assert post(url, CONFIG, body, user_token).status_code == 200
    assert post(url, CONFIG, body, user_token).status_code == 406


def test_rotation_with_bad_hmac_is_406_and_changes_nothing(url: str, user_token: str) -> None:
    body = rotation(read(url, user_token))
    body["userkey"] = codec.x25519_public_b64(bytes(range(150, 182)))  # the HMAC proves another key
    assert post(url, CONFIG, body | {"user": "Changed"}, user_token).status_code == 406
    assert read(url, user_token)["user"] == default_cfg()["user"]
    login(url, "system:config", private=USER_PRIVATE)


# --- wipeout (§3.7, §18.9) ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, "true", 1, None])
def test_wipeout_other_than_true_is_406(unit: SimulatedPpa, url: str, user_token: str, value: Any) -> None:
    assert post(url, CONFIG, {"wipeout": value}, user_token).status_code == 406
    assert events(unit, Event.CONFIG_UPDATED) == [(Result.FAILED, "U")]
    assert "inited" not in get(url, "/api/system/status").json()


def test_wipeout_end_to_end(unit: SimulatedPpa, url: str, user_token: str, backend_private: bytes) -> None:
    before = read(url, user_token)
    post(url, CONFIG, {"tls": full_bundle()}, user_token).raise_for_status()
    bundle = unit.state.tls_bundle
    response = post(url, CONFIG, {"wipeout": True}, user_token)
    assert (response.status_code, response.content) == (200, b"")
    status = back_after_restart(unit)
    assert status["inited"] is False
    assert "time" not in status  # the RTC is lost with the reboot
    assert get(url, "/api/auth/init").status_code == 403
    checkin(url, backend_private, iat=IAT).raise_for_status()
    challenge = get(url, "/api/auth/init")
    assert challenge.status_code == 200
    assert challenge.json()["eid"] != before["eid"]  # a new instance
    assert get(url, CONFIG, user_token).status_code == 401  # tokens died with the boot
    assert unit.devid == before["devid"] and unit.state.tls_bundle == bundle
    personalise(url, backend_private)  # and it can be personalised again


def test_wipeout_by_the_master(unit: SimulatedPpa, url: str) -> None:
    token = login(url, "system:config", private=MASTER_PRIVATE)
    assert post(url, CONFIG, {"wipeout": True}, token).status_code == 200
    assert back_after_restart(unit)["inited"] is False
