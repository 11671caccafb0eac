"""Personalisation on the simulated unit (reference §4, §18.6): both phases, every refusal, the result."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.devices.ppa import protocol as p
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.state import SD_CAPACITY_SECTORS
from tests.simtools import (
    MASTER_PRIVATE,
    USER_PRIVATE,
    checkin,
    default_cfg,
    get,
    init_jwt,
    login,
    personalise,
    post,
)

IAT = 1_700_000_000
INIT = "/api/auth/init"
OTHER_PRIVATE = bytes(range(65, 97))
# 24-word BIP39 mnemonic of all-zero entropy: a valid checksum, and public, so only fit for tests.
MNEMONIC = " ".join(["abandon"] * 23 + ["art"])


@pytest.fixture
def url(unit: SimulatedPpa, backend_private: bytes) -> str:
    """A fresh unit whose RTC was set by a check-in at ``IAT`` (the clock stands still until advanced)."""
    checkin(unit.http_url, backend_private, iat=IAT).raise_for_status()
    return unit.http_url


def challenge(url: str) -> dict[str, Any]:
    response = get(url, INIT)
    assert response.status_code == 200
    return dict(response.json())


def sign_init(
    chal: dict[str, Any],
    cfg: Any,
    *,
    signer: bytes = MASTER_PRIVATE,
    iss: str | None = None,
    header: bytes = p.ECDH_JWT_HEADER,
    jti: str | None = None,
) -> str:
    """An init JWT with any part replaceable: who signs, who it claims to be, header, nonce."""
    claims = {
        "jti": jti or chal["jti"],
        "aud": chal["spk"],
        "exp": chal["exp"],
        "iat": IAT,
        "iss": iss or codec.x25519_public_b64(signer),
        "cfg": cfg,
    }
    return p.encode_jwt(claims, p.x25519_shared_secret(signer, codec.b64decode(chal["spk"])), header)


def is_inited(url: str) -> bool:
    return "inited" not in get(url, "/api/system/status").json()


def log_records(unit: SimulatedPpa) -> list[list[str]]:
    text = unit.state.log.text(unit.state.log.current_id)
    return [line.split("|") for line in text.splitlines() if not line.startswith("#")]


# --- phase 1 ------------------------------------------------------------------------------------------


def test_challenge_carries_identity_nonce_and_genuine(unit: SimulatedPpa, url: str) -> None:
    chal = challenge(url)
    assert set(chal) == {"eid", "spk", "jti", "exp", "genuine"}
    assert codec.b64decode(chal["eid"]) == unit.state.instance.eid_public
    assert len(codec.b64decode(chal["spk"])) == 32
    nonce = codec.b64decode(chal["jti"])
    assert len(nonce) == 32 and int.from_bytes(nonce[:4], "little") == IAT
    assert chal["exp"] == IAT + 60
    genuine = p.verify_genuine(chal["genuine"], unit.state.hardware.se_key.public_key(), now=IAT)
    assert genuine.timestamp == chal["exp"]


def test_challenges_are_single_use_and_distinct(url: str) -> None:
    assert challenge(url)["jti"] != challenge(url)["jti"]


def test_init_needs_the_rtc(unit: SimulatedPpa, backend_private: bytes) -> None:
    assert get(unit.http_url, INIT).status_code == 403
    assert post(unit.http_url, INIT, {"init": "x.y.z"}).status_code == 403
    checkin(unit.http_url, backend_private, iat=IAT).raise_for_status()
    assert get(unit.http_url, INIT).status_code == 200


def test_failed_state_is_409_before_anything_else(unit: SimulatedPpa, backend_private: bytes) -> None:
    checkin(unit.http_url, backend_private, iat=IAT, status="L").raise_for_status()  # fls_state 0x40
    assert get(unit.http_url, INIT).status_code == 409
    assert post(unit.http_url, INIT, {}).status_code == 409


def test_personalised_unit_refuses_with_406(url: str, backend_private: bytes) -> None:
    personalise(url, backend_private)
    assert get(url, INIT).status_code == 406
    assert post(url, INIT, {}).status_code == 406


# --- phase 2: success ---------------------------------------------------------------------------------


def test_personalise_writes_config_and_answers(unit: SimulatedPpa, url: str) -> None:
    chal = challenge(url)
    cfg = default_cfg(user="Alice", ctx=7)
    response = post(url, INIT, {"init": init_jwt(chal, cfg)})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"instanceid", "token", "genuine"}
    master = codec.b64decode(cfg["masterkey"])
    assert body["instanceid"] == p.derive_instanceid(master, codec.b64decode(chal["eid"]), unit.devid)
    claims = p.parse_jwt(body["token"]).claims
    assert (claims["scope"], claims["sub"], claims["iat"], claims["exp"]) == (
        "system:config",
        "U",
        IAT,
        IAT + 8 * 3600,
    )
    assert p.verify_genuine(body["genuine"], unit.state.hardware.se_key.public_key(), now=IAT)
    assert is_inited(url)
    config = get(url, "/api/system/config", body["token"]).json()
    assert (config["user"], config["ctx"], config["instanceid"]) == ("Alice", 7, body["instanceid"])
    assert config["iat"] == config["uts"] == IAT


def test_personalise_logs_device_inited_by_the_master(unit: SimulatedPpa, url: str) -> None:
    post(url, INIT, {"init": init_jwt(challenge(url), default_cfg())}).raise_for_status()
    inited = [r for r in log_records(unit) if int(r[2], 16) == Event.DEVICE_INITED]
    assert len(inited) == 1
    assert (int(inited[0][3]), inited[0][4]) == (Result.OK, "M")


def test_personalise_starts_the_disk_format(url: str) -> None:
    post(url, INIT, {"init": init_jwt(challenge(url), default_cfg())}).raise_for_status()
    assert "format" in get(url, "/api/system/status").json()


def test_reboot_required_only_when_ip_changes(url: str) -> None:
    changed = post(url, INIT, {"init": init_jwt(challenge(url), default_cfg(ip="192.168.8.1/24"))})
    assert changed.json()["reboot_required"] is True


def test_same_ip_needs_no_reboot(url: str) -> None:
    same = post(url, INIT, {"init": init_jwt(challenge(url), default_cfg(ip="192.168.7.1/24"))})
    assert "reboot_required" not in same.json()


def test_gen_csr_returns_a_csr_for_the_hostname(url: str) -> None:
    cfg = default_cfg(hostname="line7.ence.do", gen_csr=True)
    body = post(url, INIT, {"init": init_jwt(challenge(url), cfg)}).json()
    csr = x509.load_pem_x509_csr(body["csr"].encode("ascii"))
    assert csr.is_signature_valid
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "line7.ence.do"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["line7.ence.do"]
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA256)


def test_unknown_cfg_fields_are_ignored(url: str) -> None:
    cfg = default_cfg(colour="blue", http_option_hsts="not even a bool")
    assert post(url, INIT, {"init": init_jwt(challenge(url), cfg)}).status_code == 200


def test_master_key_from_a_mnemonic_signs_the_init(unit: SimulatedPpa, url: str) -> None:
    master = p.master_private_key_from_mnemonic(MNEMONIC)
    chal = challenge(url)
    cfg = default_cfg(masterkey=codec.x25519_public_b64(master))
    body = post(url, INIT, {"init": init_jwt(chal, cfg, master_private=master)}).json()
    eid = codec.b64decode(chal["eid"])
    assert body["instanceid"] == p.derive_instanceid(codec.x25519_public_key(master), eid, unit.devid)
    token = login(url, "system:config", private=master)
    assert p.parse_jwt(token).claims["sub"] == "M"


# --- phase 2: refusals --------------------------------------------------------------------------------


INVALID_FIELDS: list[tuple[str, Any]] = [
    ("user", "x" * 33),
    ("user", 5),
    ("email", None),
    ("hostname", "-line.ence.do"),
    ("hostname", "line_7.ence.do"),
    ("hostname", "a" * 64 + ".ence.do"),
    ("hostname", ""),
    ("ip", "192.168.7.1"),
    ("ip", "192.168.7.1/7"),
    ("ip", "192.168.7.1/31"),
    ("ip", "300.168.7.1/24"),
    ("ip", "fe80::1/64"),
    ("storage_mode", 0x52),
    ("storage_mode", "0x51"),
    ("storage_mode", True),
    ("storage_disk0size", 0),
    ("storage_disk0size", SD_CAPACITY_SECTORS),
    ("storage_disk0size", "8388608"),
    ("dnsd", 1),
    ("trusted_ts", "true"),
    ("trusted_backend", None),
    ("allow_keysearch", 0),
    ("origin", 5),
    ("masterkey", codec.b64encode(bytes(16))),
    ("userkey", "not base64!"),
    ("ctx", "0"),
    ("ctx", -1),
    ("ctx", True),
    ("gen_csr", "yes"),
]
MANDATORY = list(default_cfg())


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS)
def test_invalid_cfg_field_is_400_and_nothing_written(url: str, field: str, value: Any) -> None:
    response = post(url, INIT, {"init": init_jwt(challenge(url), default_cfg(**{field: value}))})
    assert response.status_code == 400
    assert response.content == b""
    assert not is_inited(url)


@pytest.mark.parametrize("field", MANDATORY)
def test_missing_mandatory_field_is_400(url: str, field: str) -> None:
    assert len(MANDATORY) == 13
    cfg = default_cfg()
    del cfg[field]
    assert post(url, INIT, {"init": init_jwt(challenge(url), cfg)}).status_code == 400
    assert not is_inited(url)


@pytest.mark.parametrize("body", [{}, {"init": 5}, {"init": None}, {"cfg": default_cfg()}])
def test_missing_init_is_400(url: str, body: dict[str, Any]) -> None:
    assert post(url, INIT, body).status_code == 400


@pytest.mark.parametrize("cfg", [None, "cfg", [default_cfg()]])
def test_missing_or_non_object_cfg_is_400(url: str, cfg: Any) -> None:
    assert post(url, INIT, {"init": sign_init(challenge(url), cfg)}).status_code == 400


def test_undecodable_init_is_401(url: str) -> None:
    assert post(url, INIT, {"init": "not.a.jwt"}).status_code == 401


def test_bad_signature_is_401_and_keeps_the_nonce(url: str) -> None:
    chal, cfg = challenge(url), default_cfg()
    forged = sign_init(chal, cfg, signer=OTHER_PRIVATE, iss=cfg["masterkey"])  # HMAC with the wrong key
    assert post(url, INIT, {"init": forged}).status_code == 401
    assert not is_inited(url)
    assert post(url, INIT, {"init": init_jwt(chal, cfg)}).status_code == 200  # jti still outstanding


@pytest.mark.parametrize(
    "header",
    [b'{"alg":"HS256","typ":"JWT"}', b'{"ecdh":"x25519","typ":"JWT"}', b'{"ecdh":"p256","alg":"HS256"}'],
)
def test_header_other_than_ecdh_hs256_is_401(url: str, header: bytes) -> None:
    assert (
        post(url, INIT, {"init": sign_init(challenge(url), default_cfg(), header=header)}).status_code == 401
    )


def test_signer_other_than_cfg_masterkey_is_401(url: str) -> None:
    token = sign_init(challenge(url), default_cfg(), signer=USER_PRIVATE)  # valid HMAC, iss = the user key
    assert post(url, INIT, {"init": token}).status_code == 401
    assert not is_inited(url)


def test_unknown_nonce_is_401(url: str) -> None:
    chal = challenge(url)
    jti = codec.b64encode(p.make_nonce(IAT, bytes(28)))
    assert post(url, INIT, {"init": sign_init(chal, default_cfg(), jti=jti)}).status_code == 401


def test_expired_nonce_is_401(url: str, manual_time: ManualTime) -> None:
    chal = challenge(url)
    manual_time.advance(61)
    assert post(url, INIT, {"init": init_jwt(chal, default_cfg())}).status_code == 401
    assert not is_inited(url)


def test_replayed_jti_is_401(url: str) -> None:
    """A jti is used up once a signature over it verifies, even when the signer is then refused."""
    chal, cfg = challenge(url), default_cfg()
    assert post(url, INIT, {"init": sign_init(chal, cfg, signer=USER_PRIVATE)}).status_code == 401
    assert post(url, INIT, {"init": init_jwt(chal, cfg)}).status_code == 401
    assert not is_inited(url)
    assert post(url, INIT, {"init": init_jwt(challenge(url), cfg)}).status_code == 200


def test_nonce_of_another_pool_is_401(url: str) -> None:
    chal = challenge(url)
    check = get(url, "/api/system/checkin").json()["check"]
    check_jti = p.parse_jwt(check).claims["jti"]
    assert post(url, INIT, {"init": sign_init(chal, default_cfg(), jti=check_jti)}).status_code == 401


def test_init_over_https_works_too(unit: SimulatedPpa, url: str) -> None:
    chal = challenge(unit.https_url)
    assert post(unit.https_url, INIT, {"init": init_jwt(chal, default_cfg())}).status_code == 200
