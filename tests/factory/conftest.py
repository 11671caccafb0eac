"""Fixtures for the factory authority: a keystore in tmp, a settable backend clock, a unit trusting it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.factory.backend import LocalBackend
from station.factory.keys.keystore import FileKeyStore
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse

NOW = 1_700_000_000
TIMEOUT = 10
ATTESTATION = "/api/system/config/attestation"
PROVISIONING = "/api/system/config/provisioning"
CHECKIN = "/api/system/checkin"


class SettableClock:
    """The backend's wall clock in tests: moves only when a test sets or advances it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def keystore(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys")


@pytest.fixture
def backend(keystore: FileKeyStore, clock: SettableClock) -> LocalBackend:
    return LocalBackend(keystore, clock=clock, name="test-st01")


@pytest.fixture
def trusting_unit(backend: LocalBackend, manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    """A fresh simulated unit whose trusted check-in backend is ``backend``."""
    with SimulatedPpa(backend_key=backend.checkin_public_key(), monotonic=manual_time) as device:
        yield device


def get_json(url: str, path: str) -> dict[str, Any]:
    response = requests.get(url + path, timeout=TIMEOUT)
    assert response.status_code == 200, (path, response.status_code)
    return dict(response.json())


def post(url: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(url + path, json=body, timeout=TIMEOUT)


def check_in(url: str, answer: Any) -> dict[str, Any]:
    """GET check → ``answer(check)`` (a backend's checkin) → POST checked; returns the unit's reply."""
    check = get_json(url, CHECKIN)["check"]
    reply = post(url, CHECKIN, {"checked": answer(check)})
    assert reply.status_code == 200, reply.status_code
    return dict(reply.json())


def csr_pem(key: ec.EllipticCurvePrivateKey, cn: str = "#0123aabbccddeeff00") -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def spki_b64(key: ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return codec.b64encode(der)
