"""Token login on the simulated unit (reference §5.1-§5.3, §18.7): challenge, proof, roles, lifetime."""

from __future__ import annotations

from typing import Any

import pytest

from station.core import codec
from station.devices.ppa import protocol as p
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.routes import all_routes
from station.sim.ppa.timing import REALISTIC
from tests.simtools import (
    MASTER_PRIVATE,
    USER_PRIVATE,
    auth_jwt,
    checkin,
    default_cfg,
    get,
    login,
    personalise,
    post,
    reboot,
    settle,
)

IAT = 1_700_000_000
TOKEN = "/api/auth/token"
OTHER_PRIVATE = bytes(range(65, 97))

# The published vector of reference §5.2 (JS-002, originally the C SDK).
VECTOR_PASSPHRASE = "correct horse battery staple"
VECTOR_EID = "d4ad81b06b1d493ab2b6f9b1a3e2c7f0"
VECTOR_SPK = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
VECTOR_ISS = "CdLq53eX780FeZR4/hOee5rTtcl7ajJdYwVwcjL5cxY="
VECTOR_JWT = (
    "eyJlY2RoIjoieDI1NTE5IiwiYWxnIjoiSFMyNTYiLCJ0eXAiOiJKV1QifQ."
    "eyJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmIiwiYXVkIjoiQVFFQkFRRUJBUUVCQVFFQkFRRUJBUUVCQVFFQkFRRUJBUUVCQVFFQkFR"
    "RT0iLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTcwMDAwMDAwMCwiaXNzIjoiQ2RMcTUzZVg3ODBGZVpSNC9oT2VlNXJUdGNsN2Fq"
    "SmRZd1Z3Y2pMNWN4WT0iLCJzY29wZSI6ImtleW1nbXQ6Z2VuIn0."
    "oPm7pWzqB9VImg5OpTllCqbQAO-xkdgoRfdzyLj09qE"
)


@pytest.fixture(scope="module")
def vector_key() -> bytes:
    """The vector's user private key: 600 000 PBKDF2 rounds, so derived once for the module."""
    return p.derive_user_private_key(VECTOR_PASSPHRASE, VECTOR_EID)


@pytest.fixture
def url(unit: SimulatedPpa, backend_private: bytes) -> str:
    """A personalised unit (test user and master keys, ``trusted_ts`` on), clock standing at ``IAT``."""
    personalise(unit.http_url, backend_private)
    settle(unit)
    checkin(unit.http_url, backend_private, iat=IAT).raise_for_status()  # personalise() checked in at now
    return unit.http_url


def challenge(url: str) -> dict[str, Any]:
    response = get(url, TOKEN)
    assert response.status_code == 200
    return dict(response.json())


def claims_of(token: str) -> dict[str, Any]:
    return p.parse_jwt(token).claims


def proof(chal: dict[str, Any], *, signer: bytes = USER_PRIVATE, **claims: Any) -> str:
    """An ``auth`` JWT whose claims can be replaced or removed (value None removes a claim)."""
    body = {
        "jti": chal["jti"],
        "aud": chal["spk"],
        "exp": IAT + 3600,
        "iat": IAT,
        "iss": codec.x25519_public_b64(signer),
        "scope": "system:config",
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    header = body.pop("header", p.ECDH_JWT_HEADER)
    key = body.pop("key", p.x25519_shared_secret(signer, codec.b64decode(chal["spk"])))
    return p.encode_jwt(body, key, header)


# --- the challenge ------------------------------------------------------------------------------------


def test_challenge_fields(unit: SimulatedPpa, url: str) -> None:
    chal = challenge(url)
    assert set(chal) == {"exp", "spk", "jti", "lbl", "eid"}
    assert chal["exp"] == IAT + 60
    assert chal["lbl"] == default_cfg()["user"]
    assert codec.b64decode(chal["eid"]) == unit.state.instance.eid_public
    assert codec.b64decode(chal["spk"]) == unit.boot.spk
    nonce = codec.b64decode(chal["jti"])
    assert len(nonce) == 32 and int.from_bytes(nonce[:4], "little") == IAT


def test_fresh_unit_is_409(unit: SimulatedPpa, backend_private: bytes) -> None:
    checkin(unit.http_url, backend_private, iat=IAT).raise_for_status()
    assert get(unit.http_url, TOKEN).status_code == 409
    assert post(unit.http_url, TOKEN, {"auth": "x.y.z"}).status_code == 409


def test_trusted_time_without_rtc_is_403(unit: SimulatedPpa, url: str) -> None:
    reboot(unit)  # the RTC is lost; trusted_ts is on in the test profile
    assert get(url, TOKEN).status_code == 403
    assert post(url, TOKEN, {"auth": "x.y.z"}).status_code == 403


def test_untrusted_time_logs_in_on_the_boot_clock(unit: SimulatedPpa, backend_private: bytes) -> None:
    personalise(unit.http_url, backend_private, trusted_ts=False)
    settle(unit)
    reboot(unit)
    chal = challenge(unit.http_url)
    assert chal["exp"] == 60  # seconds since boot, no RTC (reference §18.1)
    response = post(unit.http_url, TOKEN, {"auth": proof(chal, exp=0)})
    assert response.status_code == 200
    assert claims_of(response.json()["token"])["exp"] == 8 * 3600


# --- logging in ---------------------------------------------------------------------------------------


def test_user_key_logs_in_as_u(url: str) -> None:
    response = post(url, TOKEN, {"auth": proof(challenge(url), scope="keymgmt:list")})
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    claims = claims_of(response.json()["token"])
    assert (claims["scope"], claims["sub"], claims["iat"], claims["exp"]) == (
        "keymgmt:list",
        "U",
        IAT,
        IAT + 3600,
    )


def test_master_key_logs_in_as_m(url: str) -> None:
    token = login(url, "system:config", private=MASTER_PRIVATE)
    assert claims_of(token)["sub"] == "M"
    assert get(url, "/api/system/config", token).status_code == 200


def test_exp_zero_means_eight_hours(url: str) -> None:
    token = post(url, TOKEN, {"auth": proof(challenge(url), exp=0)}).json()["token"]
    assert claims_of(token)["exp"] == IAT + 8 * 3600


def test_no_upper_limit_on_exp(url: str) -> None:
    far = IAT + 10 * 365 * 86400
    token = post(url, TOKEN, {"auth": proof(challenge(url), exp=far)}).json()["token"]
    assert claims_of(token)["exp"] == far


def test_exp_in_the_past_by_device_clock_is_401(url: str, manual_time: ManualTime) -> None:
    chal = challenge(url)
    manual_time.advance(30)
    assert post(url, TOKEN, {"auth": proof(chal, exp=IAT + 29)}).status_code == 401


def test_token_expires_by_device_clock(url: str, manual_time: ManualTime) -> None:
    token = post(url, TOKEN, {"auth": proof(challenge(url), exp=IAT + 100)}).json()["token"]
    assert get(url, "/api/system/config", token).status_code == 200
    manual_time.advance(101)
    assert get(url, "/api/system/config", token).status_code == 401


def test_login_is_audit_logged_with_subject_and_scope(unit: SimulatedPpa, url: str) -> None:
    login(url, "logger:get")
    login(url, "system:config", private=MASTER_PRIVATE)
    text = unit.state.log.text(unit.state.log.current_id)
    records = [line.split("|") for line in text.splitlines() if not line.startswith("#")]
    logins = [r for r in records if int(r[2], 16) == Event.AUTH_SUCCESS_INTERNAL]
    seen = [(int(r[3]), r[4], codec.b64decode(r[5]).decode()) for r in logins]
    assert seen == [(Result.OK, "U", "logger:get"), (Result.OK, "M", "system:config")]


def test_token_dies_on_reboot(unit: SimulatedPpa, url: str, backend_private: bytes) -> None:
    token = login(url, "system:config")
    reboot(unit)
    checkin(url, backend_private, iat=IAT).raise_for_status()
    assert get(url, "/api/system/config", token).status_code == 401


def test_login_is_paced_as_an_auth_call() -> None:
    """Realistic pacing (>= 500 ms per auth reply, reference §5.2) is configured, not timed here."""
    costs = {(r.method, r.pattern.pattern): r.cost for r in all_routes()}
    assert costs["POST", TOKEN] == costs["POST", "/api/auth/init"] == "auth"
    assert REALISTIC.delay("auth") >= 0.5


# --- the published test vector (§5.2) -----------------------------------------------------------------


def test_vector_proof_is_reproduced(vector_key: bytes) -> None:
    assert codec.x25519_public_b64(vector_key) == VECTOR_ISS
    claims = {
        "jti": "0123456789abcdef",
        "aud": VECTOR_SPK,
        "exp": 1_700_003_600,
        "iat": 1_700_000_000,
        "iss": VECTOR_ISS,
        "scope": "keymgmt:gen",
    }
    shared = p.x25519_shared_secret(vector_key, codec.b64decode(VECTOR_SPK))
    assert p.encode_ecdh_jwt(claims, shared) == VECTOR_JWT


def test_vector_user_key_logs_in(unit: SimulatedPpa, backend_private: bytes, vector_key: bytes) -> None:
    """A unit personalised with the vector's user key accepts a login derived from the passphrase."""
    personalise(unit.http_url, backend_private, userkey=VECTOR_ISS)
    settle(unit)
    token = login(unit.http_url, "keymgmt:gen", private=vector_key)
    assert (claims_of(token)["sub"], claims_of(token)["scope"]) == ("U", "keymgmt:gen")


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"auth": 5}, {"auth": None}, {"token": "x.y.z"}])
def test_missing_auth_is_400(url: str, body: dict[str, Any]) -> None:
    assert post(url, TOKEN, body).status_code == 400


@pytest.mark.parametrize("claims", [{"scope": None}, {"scope": ""}, {"scope": "s" * 128}, {"scope": 5}])
def test_bad_scope_is_400(url: str, claims: dict[str, Any]) -> None:
    assert post(url, TOKEN, {"auth": proof(challenge(url), **claims)}).status_code == 400


@pytest.mark.parametrize("claims", [{"exp": None}, {"exp": "3600"}, {"exp": True}])
def test_missing_or_non_integer_exp_is_400(url: str, claims: dict[str, Any]) -> None:
    assert post(url, TOKEN, {"auth": proof(challenge(url), **claims)}).status_code == 400


def test_scope_of_127_characters_is_accepted(url: str) -> None:
    scope = "keymgmt:use:" + "a" * 115
    token = post(url, TOKEN, {"auth": proof(challenge(url), scope=scope)}).json()["token"]
    assert claims_of(token)["scope"] == scope


def test_undecodable_auth_is_401(url: str) -> None:
    assert post(url, TOKEN, {"auth": "garbage"}).status_code == 401


def test_unknown_key_is_401(url: str) -> None:
    assert post(url, TOKEN, {"auth": proof(challenge(url), signer=OTHER_PRIVATE)}).status_code == 401


def test_bad_signature_is_401(url: str) -> None:
    chal = challenge(url)
    wrong = p.x25519_shared_secret(OTHER_PRIVATE, codec.b64decode(chal["spk"]))
    assert post(url, TOKEN, {"auth": proof(chal, key=wrong)}).status_code == 401
    assert post(url, TOKEN, {"auth": proof(chal)}).status_code == 200  # the nonce survived the forgery


@pytest.mark.parametrize("header", [p.BEARER_JWT_HEADER, b'{"ecdh":"x25519","typ":"JWT"}'])
def test_header_other_than_ecdh_hs256_is_401(url: str, header: bytes) -> None:
    assert post(url, TOKEN, {"auth": proof(challenge(url), header=header)}).status_code == 401


def test_replayed_nonce_is_401(url: str) -> None:
    auth = proof(challenge(url))
    assert post(url, TOKEN, {"auth": auth}).status_code == 200
    assert post(url, TOKEN, {"auth": auth}).status_code == 401


def test_expired_nonce_is_401(url: str, manual_time: ManualTime) -> None:
    chal = challenge(url)
    manual_time.advance(61)
    assert post(url, TOKEN, {"auth": proof(chal, exp=0)}).status_code == 401


def test_nonce_of_another_boot_is_401(unit: SimulatedPpa, url: str, backend_private: bytes) -> None:
    chal = challenge(url)
    reboot(unit)
    checkin(url, backend_private, iat=IAT).raise_for_status()
    assert post(url, TOKEN, {"auth": auth_jwt(chal, "system:config", USER_PRIVATE)}).status_code == 401
