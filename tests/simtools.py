"""Client-side protocol flows for simulator tests: check-in, personalisation, login.

These drive a simulated unit over real HTTP with plain ``requests`` calls and the pure functions of
``station.devices.ppa.protocol``; they are the test suite's reference client for the simulator, independent of
the station's own ``PpaClient``. Low PBKDF2 round counts are not possible here: the unit only sees public
keys, so tests use fixed private keys instead of passphrases wherever the derivation is not the subject.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from station.core import codec
from station.devices.ppa import protocol as p
from station.devices.ppa.checkin import sign_checked, verify_check
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa

TIMEOUT = 10

# Fixed test keys (raw X25519 private keys). Tests that exercise the derivations derive their own.
MASTER_PRIVATE = bytes(range(1, 33))
USER_PRIVATE = bytes(range(33, 65))


def get(url: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.get(url + path, headers=headers, timeout=TIMEOUT, verify=False, **kwargs)


def post(url: str, path: str, body: Any, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.post(url + path, json=body, headers=headers, timeout=TIMEOUT, verify=False, **kwargs)


def checkin(
    url: str, backend_private: bytes, *, iat: int | None = None, status: str = "OK", timeout: float = TIMEOUT
) -> requests.Response:
    """GET check → sign as the backend → POST checked. Returns the POST reply."""
    check = get(url, "/api/system/checkin")
    check.raise_for_status()
    request = verify_check(check.json()["check"], backend_private)
    checked = sign_checked(request, backend_private, iat=iat or int(time.time()), status=status)
    return requests.post(url + "/api/system/checkin", json={"checked": checked}, timeout=timeout)


def default_cfg(**overrides: Any) -> dict[str, Any]:
    """All 13 mandatory ``cfg`` fields of a PPA init (reference §4.2), with the test keys."""
    cfg: dict[str, Any] = {
        "masterkey": codec.x25519_public_b64(MASTER_PRIVATE),
        "userkey": codec.x25519_public_b64(USER_PRIVATE),
        "user": "Line Test",
        "email": "",
        "hostname": "my.ence.do",
        "ip": "192.168.7.1/24",
        "storage_mode": 0x51,
        "storage_disk0size": 8388608,
        "dnsd": False,
        "trusted_ts": True,
        "trusted_backend": True,
        "allow_keysearch": False,
        "origin": "*",
    }
    cfg.update(overrides)
    return cfg


def init_jwt(challenge: dict[str, Any], cfg: dict[str, Any], master_private: bytes = MASTER_PRIVATE) -> str:
    """The master-signed init ECDH-JWT for a ``GET /api/auth/init`` challenge (reference §4.2)."""
    claims = {
        "jti": challenge["jti"],
        "aud": challenge["spk"],
        "exp": challenge["exp"],
        "iat": int(time.time()),
        "iss": codec.x25519_public_b64(master_private),
        "cfg": cfg,
    }
    shared = p.x25519_shared_secret(master_private, codec.b64decode(challenge["spk"]))
    return p.encode_ecdh_jwt(claims, shared)


@dataclass
class Personalised:
    instanceid: str
    token: str
    reply: dict[str, Any]


def personalise(url: str, backend_private: bytes, **cfg_overrides: Any) -> Personalised:
    """Check in, then run both init phases with the test master key. Raises on any non-200."""
    checkin(url, backend_private).raise_for_status()
    challenge = get(url, "/api/auth/init")
    challenge.raise_for_status()
    done = post(url, "/api/auth/init", {"init": init_jwt(challenge.json(), default_cfg(**cfg_overrides))})
    done.raise_for_status()
    body = done.json()
    return Personalised(body["instanceid"], body["token"], body)


def auth_jwt(challenge: dict[str, Any], scope: str, private: bytes, exp: int | None = None) -> str:
    """The ``auth`` ECDH-JWT for a ``GET /api/auth/token`` challenge (reference §5.2)."""
    claims = {
        "jti": challenge["jti"],
        "aud": challenge["spk"],
        "exp": exp if exp is not None else challenge["exp"] + 3600,
        "iat": int(time.time()),
        "iss": codec.x25519_public_b64(private),
        "scope": scope,
    }
    return p.encode_ecdh_jwt(claims, p.x25519_shared_secret(private, codec.b64decode(challenge["spk"])))


def login(url: str, scope: str, private: bytes = USER_PRIVATE, exp: int | None = None) -> str:
    """Token login with a raw private key (U with USER_PRIVATE, M with MASTER_PRIVATE)."""
    challenge = get(url, "/api/auth/token")
    challenge.raise_for_status()
    done = post(url, "/api/auth/token", {"auth": auth_jwt(challenge.json(), scope, private, exp)})
    done.raise_for_status()
    return str(done.json()["token"])


def settle(unit: SimulatedPpa) -> None:
    """Let ``unit`` finish an announced restart and its storage format: a manual clock is moved past them,
    a real one waited out (the simulator's sequence is never skipped, only met)."""
    left = unit.busy_for()
    if isinstance(unit.clock.monotonic, ManualTime):
        unit.clock.monotonic.advance(left + 0.001)
    else:
        time.sleep(left + 0.01)
    assert unit.busy_for() == 0.0


def reboot(unit: SimulatedPpa) -> None:
    """Power-cycle ``unit`` (``reboot_now``) and wait for its new boot."""
    unit.reboot_now()
    settle(unit)


def back_after_restart(unit: SimulatedPpa) -> dict[str, Any]:
    """The new boot's status after a restart ``unit`` announced with its last reply (checked announced)."""
    assert unit.restarting, "the unit announced no restart"
    settle(unit)
    return dict(get(unit.http_url, "/api/system/status").json())
