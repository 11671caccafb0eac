"""A whole station in the test process, over simulated units on 127.0.0.1, and ways to look at the units.

Example::

    def test_something(line_factory: LineFactory) -> None:
        line = line_factory()                       # one ``simulated`` fixture, batch key policy
        line.unit().faults.add(FaultRule("500", path=ATTESTATION, times=1))
        (verdict,) = line.run()
        token = line.login(verdict)                 # the unit's user key, derived as the station does
        assert line.attestation(token)["crt"] == verdict.record.payload["provisioning"]["crt"]

The station is built the way an operator builds one: a ``station.toml`` written into ``tmp_path`` and
``load``-ed, keys created in its data directory on first start. Most tests use the ``batch`` key policy so
the test can derive the user key (``Line.user_key``) and log in to check the unit's real state; the
secrets come from ``environ``, never from the file. A ``network`` fixture is a ``SimulatedPpa`` the test
starts itself (``Line.network_unit``), trusting the station's check-in key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import pytest
import requests

from station.app.station import Station
from station.core.config import KeysSection, StationConfig, load
from station.devices.ppa.protocol import generate_mnemonic
from station.factory.backend import LocalBackend
from station.factory.keys.secrets import UnitSecrets, derive_keys
from station.pipeline import engine, slot
from station.pipeline.modes import readers
from station.pipeline.tally import Verdict
from station.records import jws
from station.records.check.chain import VerifyReport
from station.records.check.store import verify_store
from station.records.entries import StoredRecord
from station.sim.fixture import FreshUnitSwap
from station.sim.ppa.device import SimulatedPpa
from tests import simtools
from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO / "firmware_images"
STATION_ID = "test-st01"
PASSPHRASE_ENV, MNEMONIC_ENV = "PPA_TEST_PASSPHRASE", "PPA_TEST_MNEMONIC"
BATCH_PASSPHRASE = "line-seven batch passphrase 2024"
BATCH_MNEMONIC = generate_mnemonic()
BATCH_ENV = {PASSPHRASE_ENV: BATCH_PASSPHRASE, MNEMONIC_ENV: BATCH_MNEMONIC}
STEPS = (
    "identify",
    "firmware",
    "check-in",
    "attest",
    "certificate",
    "provision",
    "verify-lock",
    "personalize",
    "verify",
)
STATUS, VERSION = "/api/system/status", "/api/system/version"
CHECKIN, CONFIG = "/api/system/checkin", "/api/system/config"
ATTESTATION, PROVISIONING = "/api/system/config/attestation", "/api/system/config/provisioning"
AUTH_INIT, LOGGER_KEY = "/api/auth/init", "/api/logger/key"
PROFILE = {
    "user": "Line Seven",
    "email": "factory@example.com",
    "hostname": "ppa.example.com",
    "secrets": "batch",
    "passphrase_env": PASSPHRASE_ENV,
    "mnemonic_env": MNEMONIC_ENV,
}


def toml_text(document: Mapping[str, Any]) -> str:
    """A small TOML writer for station files: tables, ``[[fixture]]`` arrays, str/int/bool values."""
    lines: list[str] = []

    def values(table: Mapping[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            else:
                escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
                lines.append(f'{key} = "{escaped}"')

    for name, content in document.items():
        if isinstance(content, list):
            for item in content:
                lines.append(f"[[{name}]]")
                values(item)
        elif name in ("profile", "reader_profile"):
            for profile_name, table in content.items():
                lines.append(f"[{name}.{profile_name}]")
                values(table)
        else:
            lines.append(f"[{name}]")
            values(content)
    return "\n".join(lines) + "\n"


@dataclass
class Line:
    """An opened station and what a test needs around it; ``close`` stops fixtures and test units."""

    station: Station
    environ: Mapping[str, str]
    extra_units: list[SimulatedPpa] = field(default_factory=list)

    @property
    def config(self) -> StationConfig:
        return self.station.config

    @property
    def data_dir(self) -> Path:
        return self.station.data_dir

    def unit(self, index: int = 0) -> SimulatedPpa:
        """The simulated unit currently in fixture ``index`` (a ``simulated`` fixture)."""
        swap = self.station.fixtures[index].swap
        assert swap is not None, "only simulated fixtures hold an in-process unit"
        return cast("FreshUnitSwap", swap).device

    def url(self, index: int = 0) -> str:
        return self.station.fixtures[index].link.base_url

    def run(self, units: int = 1) -> list[Verdict]:
        verdicts = self.station.run(units=units)
        assert len(verdicts) == units
        return verdicts

    def records(self) -> list[StoredRecord]:
        return list(self.station.store.records())

    def verify(self) -> VerifyReport:
        return verify_store(
            self.station.store,
            jws.trusted_keys_from([self.station.signing_public_key]),
            self.station.ca_certificate(),
        )

    def user_key(self, eid: str) -> bytes:
        """The unit's user private key under the batch policy, derived exactly as the station does."""
        secrets = UnitSecrets(self.environ[PASSPHRASE_ENV], self.environ[MNEMONIC_ENV])
        return derive_keys(secrets, eid).user_private

    def login(self, verdict: Verdict, scope: str = "system:config", index: int = 0) -> str:
        eid = verdict.record.payload["unit"]["eid"]
        return simtools.login(self.url(index), scope, self.user_key(eid))

    def attestation(self, token: str | None = None, index: int = 0) -> dict[str, Any]:
        return ok_json(simtools.get(self.url(index), ATTESTATION, token))

    def status(self, index: int = 0) -> dict[str, Any]:
        return ok_json(simtools.get(self.url(index), STATUS))

    def reopen(self, mode: str, **kwargs: Any) -> Line:
        """The same station (config, data, network units) opened again in ``mode``; this one is closed.

        The network units are handed over (the new line stops them); ``kwargs`` go to ``Station.open``.
        """
        self.station.close()
        station = Station.open(self.config, environ=self.environ, mode=mode, **kwargs)
        units, self.extra_units = self.extra_units, []
        return Line(station, self.environ, units)

    def close(self) -> None:
        self.station.close()
        for unit in self.extra_units:
            unit.stop()


def ok_json(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.request.path_url, response.status_code)
    return dict(response.json())


class LineFactory(Protocol):
    def __call__(
        self,
        *,
        fixtures: int = 1,
        profile: Mapping[str, Any] | None = None,
        firmware: Mapping[str, Any] | None = None,
        network: list[dict[str, Any]] | None = None,
        environ: Mapping[str, str] | None = None,
        client_timeout: float = 10.0,
        keys: Mapping[str, Any] | None = None,
        label: Mapping[str, Any] | None = None,
        request_spacing: float | None = None,
    ) -> Line: ...


QUICK_RETRY = 0.01  # seconds: the pause before each retry under ``quick_retries``


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries pause 10 ms instead of 0.5 s, 1 s, ...: for tests that count attempts, not seconds.

    Every attempt is still made and journalled; only the waits between them are short: the steps'
    retry policies (``RetryPolicy.backoff``, shared instances, restored after the test) and the slot's
    pauses while it asks a resumed run's unit who it is (``slot.IDENTIFY_BACKOFF``).
    """
    for policy in (engine.SAFE_RETRY, readers.READ_RETRY, readers.WRITE_RETRY):
        monkeypatch.setitem(vars(policy), "backoff", QUICK_RETRY)  # frozen dataclass: through its __dict__
    monkeypatch.setattr(slot, "IDENTIFY_BACKOFF", QUICK_RETRY)


@pytest.fixture
def line_factory(tmp_path: Path) -> Iterator[LineFactory]:
    """Open stations in ``tmp_path``; each is closed (and its test units stopped) at teardown.

    ``fixtures`` simulated slots, or, with ``network``, one ``network`` slot per entry: the entry's
    keyword arguments build a ``SimulatedPpa`` that trusts the station's check-in key. ``request_spacing``
    is written into ``[station]`` when given; network lines get 0 otherwise (their units answer at once:
    the 150 ms a real unit needs would only slow the tests).
    """
    opened: list[Line] = []

    def make(
        *,
        fixtures: int = 1,
        profile: Mapping[str, Any] | None = None,
        firmware: Mapping[str, Any] | None = None,
        network: list[dict[str, Any]] | None = None,
        environ: Mapping[str, str] | None = None,
        client_timeout: float = 10.0,
        keys: Mapping[str, Any] | None = None,
        label: Mapping[str, Any] | None = None,
        request_spacing: float | None = None,
    ) -> Line:
        folder = tmp_path / f"station{len(opened)}"
        data = folder / "data"
        units = [_network_unit(data, **kwargs) for kwargs in network or []]
        slots: list[dict[str, Any]] = (
            [{"slot": f"N{i + 1}", "kind": "network", "url": unit.http_url} for i, unit in enumerate(units)]
            if network is not None
            else [{"slot": f"A{i + 1}", "kind": "simulated"} for i in range(fixtures)]
        )
        head: dict[str, Any] = {"id": STATION_ID, "data_dir": "data", "simulated": network is None}
        if request_spacing is not None or network is not None:  # network units: unpaced unless asked
            head["request_spacing"] = request_spacing or 0
        document: dict[str, Any] = {
            "station": head,
            "firmware": dict(firmware or {}),
            **({"keys": dict(keys)} if keys else {}),  # a [keys] table (e.g. pkcs11: keys); default: files
            **({"label": dict(label)} if label else {}),  # a [label] table: labels on a (fake) printer
            "profile": {"default": dict(profile or PROFILE)},
            "fixture": slots,
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "station.toml").write_text(toml_text(document), encoding="utf-8")
        env = dict(BATCH_ENV if environ is None else environ)
        station = Station.open(load(folder / "station.toml"), environ=env, client_timeout=client_timeout)
        line = Line(station, env, units)
        opened.append(line)
        return line

    yield make
    for line in opened:
        line.close()


def _network_unit(data_dir: Path, **kwargs: Any) -> SimulatedPpa:
    """A unit for a ``network`` fixture, trusting the check-in key the station will load from ``data_dir``.

    The station creates its keys on first start; creating them here first (same files, same names) lets
    the unit be started before the station, as on a line where units outlive stations.
    """
    backend = LocalBackend.from_keys(KeysSection(), data_dir, name=STATION_ID)
    return SimulatedPpa(backend_key=backend.checkin_public_key(), **kwargs).start()


def step_of(verdict: Verdict, name: str) -> Mapping[str, Any]:
    """The signed record's timeline entry for step ``name``."""
    for step in verdict.record.payload["steps"]:
        if step["name"] == name:
            return cast("Mapping[str, Any]", step)
    raise AssertionError(f"no step {name!r} in the record")


def failure_of(verdict: Verdict) -> tuple[str, str, str]:
    """``(step, code, message)`` from the verdict, checked equal to the signed record's ``failure``."""
    failure = verdict.failure
    assert failure is not None, "the unit passed"
    assert verdict.record.payload["failure"] == failure.as_dict()
    return failure.step, failure.code, failure.message
