"""A value personalisation or provisioning would refuse stops the station at start-up, before a unit sees a
single request: refused later, after the secure element's one-shot certificate write, it would cost an RMA.

Each case opens a real station on one ``network`` slot whose simulated PPA runs beside it, and asserts the
unit's request log is empty and its state untouched. The control case opens the same station with good
values and runs the unit through, so the harness does see the requests a station makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.core import codec
from station.core.config import KeysSection, load
from station.core.errors import ConfigError
from station.core.events import Outcome
from station.factory.backend import LocalBackend
from station.sim.ppa.device import SimulatedPpa
from tests.pipeline.conftest import BATCH_ENV, MNEMONIC_ENV, PASSPHRASE_ENV, STATION_ID, toml_text

ESCROW = codec.x25519_public_b64(bytes(range(200, 232)))
GOOD_PROFILE = {"user": "Line Seven", "secrets": "sealed", "escrow_public_key": ESCROW}
Prepare = Callable[[Path], None]


def _nothing(folder: Path) -> None:
    return None


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[SimulatedPpa]:
    """A fresh PPA trusting the check-in key the station will load from ``tmp_path/data``."""
    backend = LocalBackend.from_keys(KeysSection(), tmp_path / "data", name=STATION_ID)
    device = SimulatedPpa(backend_key=backend.checkin_public_key()).start()
    yield device
    device.stop()


def write_station(
    folder: Path, unit: SimulatedPpa, tables: Mapping[str, Mapping[str, Any]], profile: Mapping[str, Any]
) -> Path:
    document: dict[str, Any] = {
        "station": {"id": STATION_ID, "data_dir": "data", "simulated": False},
        **tables,
        "profile": {"default": dict(profile)},
        "fixture": [{"slot": "N1", "kind": "network", "url": unit.http_url}],
    }
    path = folder / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    return path


def _loose_ca_key(folder: Path) -> None:
    (folder / "data" / "keys" / "factory-ca.pem").chmod(0o644)


def _loose_passphrase(folder: Path) -> None:
    (folder / "pass.txt").write_text("a batch passphrase\n")
    (folder / "pass.txt").chmod(0o640)


def _weak_passphrase(folder: Path) -> None:
    (folder / "pass.txt").write_text("hunter2\n")
    (folder / "pass.txt").chmod(0o600)


def _mnemonic(words: str) -> Prepare:
    def prepare(folder: Path) -> None:
        (folder / "mnemonic.txt").write_text(words + "\n")
        (folder / "mnemonic.txt").chmod(0o600)

    return prepare


BATCH_FILE = {"secrets": "batch", "passphrase_file": "pass.txt", "mnemonic_env": MNEMONIC_ENV}
BATCH_MNEMONIC_FILE = {"secrets": "batch", "passphrase_env": PASSPHRASE_ENV, "mnemonic_file": "mnemonic.txt"}
BATCH_ENV_ONLY = {"secrets": "batch", "passphrase_env": "NOT_SET_HERE", "mnemonic_env": MNEMONIC_ENV}


@dataclass(frozen=True)
class Case:
    """What is wrong: extra tables, the profile's values, a file made wrong first; the key and message."""

    key: str
    message: str
    profile: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    prepare: Prepare = _nothing
    policy: Mapping[str, Any] = field(default_factory=lambda: GOOD_PROFILE)


CASES = {
    "short escrow key": Case("escrow_public_key", "3 bytes", {"escrow_public_key": "AAAA"}),
    "all-zero escrow key": Case(
        "escrow_public_key", "low-order", {"escrow_public_key": codec.b64encode(bytes(32))}
    ),
    "disk 0 beyond the card": Case(
        "storage_disk0size", "out of range", {"storage_disk0size": 99_999_999_999_999_999}
    ),
    "storage mode": Case("storage_mode", "0x51", {"storage_mode": 0x52}),
    "context": Case("ctx", "4294967295", {"ctx": 1 << 32}),
    "host name": Case("hostname", "RFC 1123", {"hostname": "ppa_01.example"}),
    "network address": Case("ip", "network or broadcast", {"ip": "192.168.7.0/24"}),
    "user label": Case("user", "printable ASCII", {"user": "Zürich ✓"}),  # TOML refuses raw escapes
    "email": Case("email", "at most 128", {"email": "e" * 129}),
    "backend over http": Case(
        "backend.url", "http:// only", tables={"backend": {"kind": "remote", "url": "http://factory.example"}}
    ),
    "backend check-in key": Case(
        "backend.checkin_key",
        "3 bytes",
        tables={"backend": {"kind": "remote", "url": "https://f.example", "checkin_key": "AAAA"}},
    ),
    "firmware": Case("firmware.require", "version", tables={"firmware": {"require": "newest"}}),
    "key file mode": Case("keys.ca", "chmod 600", prepare=_loose_ca_key),
    "secret file mode": Case("passphrase_file", "chmod 600", prepare=_loose_passphrase, policy=BATCH_FILE),
    "secret not set": Case("passphrase_env", "NOT_SET_HERE", policy=BATCH_ENV_ONLY),
    "weak passphrase": Case(
        "passphrase_file", "file pass.txt is too weak", prepare=_weak_passphrase, policy=BATCH_FILE
    ),
    "mnemonic checksum": Case(
        "profile.default",
        "wrong checksum",
        prepare=_mnemonic(" ".join(["abandon"] * 24)),
        policy=BATCH_MNEMONIC_FILE,
    ),
    "mnemonic words": Case(
        "profile.default",
        "24 words, not 12",
        prepare=_mnemonic(" ".join(["abandon"] * 11 + ["about"])),
        policy=BATCH_MNEMONIC_FILE,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_value_stops_the_station_before_the_unit_sees_a_request(
    tmp_path: Path, unit: SimulatedPpa, case: Case
) -> None:
    path = write_station(tmp_path, unit, case.tables, {**case.policy, **case.profile})
    case.prepare(tmp_path)
    with pytest.raises(ConfigError, match=case.message) as info:
        Station.open(load(path), environ=BATCH_ENV)
    assert info.value.key is not None and info.value.key.endswith(case.key)
    assert info.value.path is not None
    assert str(tmp_path) in str(info.value)  # the configuration, or the secret file it names
    assert list(unit.requests_seen) == []
    assert unit.state.se_certificate is None and not unit.state.initialised


def test_with_good_values_the_same_station_runs_the_unit(tmp_path: Path, unit: SimulatedPpa) -> None:
    """The control: the harness sees what a station writes, so an empty log above means something."""
    path = write_station(tmp_path, unit, {}, GOOD_PROFILE)
    station = Station.open(load(path), environ={PASSPHRASE_ENV: "unused"})
    try:
        (verdict,) = station.run(units=1)
    finally:
        station.close()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    writes = {path for method, path in unit.requests_seen if method == "POST"}
    assert {"/api/system/config/provisioning", "/api/auth/init"} <= writes
    assert unit.state.se_certificate is not None and unit.state.initialised
