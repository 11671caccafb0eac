"""A production line on a backend shaped like Encedo's service: no ``GET /ca``, the CA from configuration.

The backend is the cloud simulator with ``like_encedo`` on 127.0.0.1 (check-in and provisioning only, an
unknown path answered 404); the station's ``[backend]`` names it as ``kind = "remote"`` with the factory
CA certificate in ``ca_certificate``. Units are ``network`` fixtures trusting the cloud's check-in key,
so they outlive one station and meet the same station again in QA and RMA mode.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from station.app.data import StationData
from station.app.station import Station
from station.core.config import load
from station.core.errors import ConfigError
from station.core.events import Outcome
from station.factory.backend import LocalBackend
from station.factory.keys.keystore import FileKeyStore
from station.pipeline.modes.rma.flow import ReturnedUnit, RmaPolicy
from station.records import jws
from station.records.check.store import verify_store
from station.sim.cloud import CloudBackendServer
from station.sim.ppa.device import SimulatedPpa
from tests.pipeline.conftest import (
    BATCH_ENV,
    BATCH_PASSPHRASE,
    PROFILE,
    STATION_ID,
    Line,
    failure_of,
    quick_retries,  # noqa: F401 - a fixture
    toml_text,
)

CA_FILE = "factory-ca.pem"


class Cloud:
    """Encedo's service as the simulator plays it, and the units that trust its check-in key."""

    def __init__(self, folder: Path) -> None:
        self.backend = LocalBackend(FileKeyStore(folder / "cloud-keys"), name="encedo-sim")
        self.server = CloudBackendServer(self.backend, like_encedo=True).start()
        self.units: list[SimulatedPpa] = []

    def unit(self) -> SimulatedPpa:
        unit = SimulatedPpa(backend_key=self.backend.checkin_public_key()).start()
        self.units.append(unit)
        return unit

    def close(self) -> None:
        for unit in self.units:
            unit.stop()
        self.server.stop()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback services reached directly, whatever the machine running the tests has set."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    made = Cloud(tmp_path)
    yield made
    made.close()


def station_file(folder: Path, cloud: Cloud, unit: SimulatedPpa, **backend: Any) -> Path:
    """A production station's file: one network slot, the remote backend (with ``backend``'s keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CA_FILE).write_bytes(cloud.backend.ca_certificate().public_bytes(serialization.Encoding.PEM))
    document: dict[str, Any] = {
        "station": {"id": STATION_ID, "data_dir": "data"},
        "backend": {"kind": "remote", "url": cloud.server.url, "ca_certificate": CA_FILE, **backend},
        "profile": {"default": dict(PROFILE)},
        "fixture": [{"slot": "N1", "kind": "network", "url": unit.http_url}],
    }
    document["backend"] = {key: value for key, value in document["backend"].items() if value is not None}
    path = folder / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    return path


@pytest.fixture
def opened() -> Iterator[list[Station]]:
    stations: list[Station] = []
    yield stations
    for station in stations:
        station.close()


def open_station(opened: list[Station], path: Path, mode: str = "production", **kwargs: Any) -> Line:
    for station in opened:
        station.close()
    station = Station.open(load(path), environ=dict(BATCH_ENV), mode=mode, **kwargs)
    opened.append(station)
    return Line(station, dict(BATCH_ENV))


def test_production_qa_and_rma_run_with_the_ca_from_the_configuration(
    tmp_path: Path, cloud: Cloud, opened: list[Station]
) -> None:
    path = station_file(tmp_path / "station", cloud, cloud.unit())

    (made,) = open_station(opened, path).run()
    assert made.outcome is Outcome.PASS, made.failure
    (qa,) = open_station(opened, path, mode="qa").run()
    assert qa.outcome is Outcome.PASS, qa.failure
    assert qa.record.payload["links"]["verifies"] == made.record.record_id
    asked: list[ReturnedUnit] = []

    def customer(unit: ReturnedUnit) -> str:
        asked.append(unit)
        return BATCH_PASSPHRASE

    rma_line = open_station(opened, path, mode="rma", rma=RmaPolicy(customer_passphrase=customer))
    (rma,) = rma_line.run()
    assert rma.outcome is Outcome.PASS, rma.failure
    assert rma.record.payload["links"]["supersedes"] == made.record.record_id
    assert len(asked) == 1

    # The service was asked only what Encedo's answers; the CA certificate never asked for.
    seen = cloud.server.requests_seen
    assert ("POST", "/provisioning") in seen and ("POST", "/checkin") in seen
    assert {request for request in seen} <= {("POST", "/checkin"), ("POST", "/provisioning")}
    # Every record checks out against the configured CA, in the station and from the command line.
    station = rma_line.station
    keys = jws.trusted_keys_from([station.signing_public_key])
    report = verify_store(station.store, keys, station.ca_certificate())
    assert report.ok, report.first
    data = StationData.open(station.config, data_dir=station.data_dir)
    assert data.ca_certificate() == cloud.backend.ca_certificate()
    assert verify_store(station.store, keys, data.ca_certificate()).ok


def test_a_backend_without_ca_and_no_ca_setting_stops_the_start(
    tmp_path: Path, cloud: Cloud, opened: list[Station]
) -> None:
    path = station_file(tmp_path / "station", cloud, cloud.unit(), ca_certificate=None)
    for mode in ("production", "qa", "rma"):
        with pytest.raises(ConfigError) as refused:
            open_station(opened, path, mode=mode)
        message = str(refused.value)
        assert message.startswith(f"{path}: [backend.ca_certificate] {cloud.server.url} has no GET /ca")
        assert '[backend] ca_certificate = "factory-ca.pem"' in message
    assert list(cloud.units[0].requests_seen) == []  # refused before any unit was asked anything
    assert cloud.server.requests_seen == [("GET", "/ca")] * 3


def test_a_backend_that_does_not_answer_fails_the_unit_naming_the_service(
    tmp_path: Path,
    cloud: Cloud,
    opened: list[Station],
    quick_retries: None,  # noqa: F811
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = station_file(tmp_path / "station", cloud, cloud.unit(), url=dead)
    (verdict,) = open_station(opened, path).run()

    assert verdict.outcome is Outcome.ERROR
    step, code, message = failure_of(verdict)
    assert (step, code) == ("check-in", "BackendError")
    assert message == (
        f"The factory backend's check-in service at {dead} did not answer (connection refused (no service "
        "listening); POST /checkin): check that the service is running on this PC"
    )
