"""The proof without hardware: eight PPAs that all answer at 192.168.7.1, provisioned in parallel.

The test builds network namespaces (``tests/netns.py``): a ``station`` namespace with veth ends
``fx0``..``fx7`` (addresses 192.168.7.10-12/24, as the units' DHCP servers hand out) and one namespace per
device running ``station sim ppa --host 192.168.7.1 --http-port 80 --https-port 443``. The real
``station run`` runs inside the station namespace over eight ``usbnet`` fixtures given by interface;
every record must name the device of its own slot (the devid its simulator printed), so no request
reached the wrong unit. The units run the real unit's timing (scaled) and start on firmware 1.2.2, so each
is upgraded: its interface goes down while it flashes and comes back with its new boot. Nothing is sent
to 192.168.x.x from the host's namespace: every process that talks to a unit runs under ``ip netns exec``.
The namespaces are removed afterwards, also on failure.

Skips (with the reason) where namespaces cannot be created; under CI that skip is a failure.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from station.access.pins import Pin
from station.app.data import StationData
from station.cli.login import open_access
from station.core.config import KeysSection
from station.core.operator import Operator
from station.factory.backend import LocalBackend
from station.records.store.sqlite import DEFAULT_FILENAME, SqliteStore
from tests.firmwaretools import SHIPPED_RELEASE_KEY
from tests.netns import BIN, Lab, later_lines
from tests.pipeline.conftest import BATCH_ENV, PROFILE, toml_text

UNITS = 8
OPERATOR, ADMIN_PIN, OPERATOR_PIN = "N0042", "731952", "584217"
STATION_ID = "netns-st01"
REPO = Path(__file__).resolve().parents[1]
UPGRADED_FWV = "Encedo nGINE FW v1.2.3"
TIMING = "realistic*0.1"  # the real unit's sequence: 0.2 s of old boot, 1.5 s flashing, 0.4 s check


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("netns")
    data = folder / "data"
    LocalBackend.from_keys(
        KeysSection(), data, name=STATION_ID
    )  # the units trust this station's check-in key
    document: dict[str, Any] = {
        "station": {"id": STATION_ID, "data_dir": "data", "simulated": False},
        "firmware": {
            "dir": str(REPO / "firmware_images"),
            "require": UPGRADED_FWV,
            "release_key": SHIPPED_RELEASE_KEY,
        },
        "profile": {"default": dict(PROFILE)},
        "fixture": [{"slot": f"F{i}", "kind": "usbnet", "interface": f"fx{i}"} for i in range(UNITS)],
    }
    (folder / "station.toml").write_text(toml_text(document), encoding="utf-8")
    _operator_account(data, folder / "operator.pin")  # a production station runs only after a login
    with Lab.build(units=UNITS, spares=2, data_dir=data, timing=TIMING) as built:
        yield built


def _operator_account(data: Path, pin_file: Path) -> None:
    users = open_access(StationData.open(None, data_dir=data, create=True)).users
    admin = Operator("N0001", "admin")
    users.add(admin.id, "Netns Admin", "admin", Pin(ADMIN_PIN), by=None)
    users.add(OPERATOR, "Netns Operator", "operator", Pin(OPERATOR_PIN), by=admin)
    pin_file.write_text(OPERATOR_PIN + "\n", encoding="utf-8")
    pin_file.chmod(0o600)


def station_command(lab: Lab, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, **BATCH_ENV}
    folder = lab.data_dir.parent
    login = ["--operator", OPERATOR, "--pin-file", str(folder / "operator.pin")] if args[0] == "run" else []
    done = lab.run_in_station(
        [str(BIN / "station"), *args, "--config", str(folder / "station.toml"), *login], env=env, cwd=folder
    )
    return done.returncode, done.stdout, done.stderr


def record_ids(lab: Lab) -> list[str]:
    """The records in the lab's store (the lab is shared by this module's tests, in any order)."""
    path = lab.data_dir / DEFAULT_FILENAME
    return [record.record_id for record in SqliteStore(path).records()] if path.exists() else []


def test_strict_reverse_path_filtering_is_refused_before_any_unit_is_touched(lab: Lab) -> None:
    before = record_ids(lab)
    lab.set_rp_filter(1)
    try:
        code, _, err = station_command(lab, "run", "--units", "1")
    finally:
        lab.set_rp_filter(2)
    assert code == 2
    assert "rp_filter = 1" in err
    assert "sysctl -w net.ipv4.conf.all.rp_filter=2" in err
    assert record_ids(lab) == before  # no unit was run


def test_eight_units_at_one_address_are_provisioned_in_parallel_each_record_naming_its_device(
    lab: Lab,
) -> None:
    code, out, err = station_command(lab, "run", "--units", str(UNITS))
    assert code == 0, out + err

    records = list(SqliteStore(lab.data_dir / DEFAULT_FILENAME).records())
    assert len(records) == UNITS
    by_slot = {record.payload["fixture"]["slot"]: record.payload for record in records}
    assert sorted(by_slot) == [f"F{i}" for i in range(UNITS)]
    for i, device in enumerate(lab.devices):
        payload = by_slot[f"F{i}"]
        assert payload["outcome"] == "pass", payload["failure"]
        assert payload["fixture"]["port"] == f"fx{i}"
        assert payload["unit"]["devid"] == device.devid, (
            f"slot F{i} recorded another unit than namespace {device.ns}"
        )
        assert payload["unit"]["fwv"] == UPGRADED_FWV
        # The firmware install took the unit's interface away, and its new boot brought it back.
        assert later_lines(device) == [{"slot": 0, "link": "down"}, {"slot": 0, "link": "up"}], device.ns
    assert len({payload["unit"]["genuine_id"] for payload in by_slot.values()}) == UNITS

    started = [datetime.fromisoformat(payload["started"]) for payload in by_slot.values()]
    finished = [datetime.fromisoformat(payload["finished"]) for payload in by_slot.values()]
    assert max(started) < min(finished), "the eight runs did not overlap: they ran one after another"

    verify = lab.run_in_station([str(BIN / "station"), "records", "verify", "--data", str(lab.data_dir)])
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_fixture_contract_holds_for_usbnet_slots_over_veth_links(lab: Lab) -> None:
    """``FixtureContract`` inside the station namespace: a slot ``fx8`` the test plugs spare units into."""
    spec = {
        "station_ns": lab.station,
        "interface": "fx8",
        "address": "192.168.7.10/24",
        "devices": [{"ns": device.ns, "devid": device.devid} for device in lab.spares],
    }
    env = {**os.environ, "STATION_NETNS_LAB": json.dumps(spec)}
    done = lab.run_in_station(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fixtures/netns_contract.py"],
        env=env,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout
