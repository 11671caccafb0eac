"""Two stations, one line database: both chains arrive and verify, and a unit is recognised across stations.

Real processes throughout: ``station sim ppa`` serves three units; station A (``station run``) provisions
units 0 and 1 and its background sync forwards the records; unit 0 is then wiped with a check-in ``W``
(its secure element keeps the certificate, docs/reference/encedo-ppa-api.md §19) and plugged into
station B beside the fresh unit 2.
B finds no record of unit 0 in its own store, asks the line database, and fails the unit with
``already-provisioned`` naming station A, instead of the obscure "foreign certificate". Both stations
share the line's factory CA and check-in key (one factory authority) and sign with keys of their own;
they log in to PostgreSQL as the stations' role (INSERT and SELECT only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from station.devices.ppa.protocol import generate_mnemonic
from station.factory.keys.keystore import open_file_key
from station.records import SqliteStore
from station.records.store.postgres import PostgresStore
from tests import simtools

REPO = Path(__file__).resolve().parent.parent
MNEMONIC = generate_mnemonic()
ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO),
    "LINE_PASSPHRASE": "two-station batch passphrase",
    "LINE_MNEMONIC": MNEMONIC,
}


def station_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli.main", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_station(folder: Path, station_id: str, shared: Path, line: str, urls: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fixtures = "".join(
        f'[[fixture]]\nslot = "N{i}"\nkind = "network"\nurl = "{url}"\n' for i, url in enumerate(urls)
    )
    path = folder / "station.toml"
    path.write_text(
        f"""
[station]
id = "{station_id}"
data_dir = "data"
simulated = true
[keys]
ca = "file:{shared / "factory-ca.pem"}"
checkin = "file:{shared / "checkin.key"}"
[store]
line = "{line}"
[profile.default]
secrets = "batch"
passphrase_env = "LINE_PASSPHRASE"
mnemonic_env = "LINE_MNEMONIC"
{fixtures}"""
    )
    return path


def wipe(url: str, checkin_key: bytes) -> None:
    """Check-in action W: configuration, keys and logs go; the secure element's certificate stays."""
    assert simtools.checkin(url, checkin_key, status="W").json() == {"status": "W"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/api/system/status", timeout=2).json().get("inited") is False:
                return
        except (requests.RequestException, ValueError):  # rebooting: it drops connections meanwhile
            pass
        time.sleep(0.05)
    raise AssertionError(f"unit at {url} did not come back after the wipe")


def test_two_stations_share_one_line_database(tmp_path: Path, station_role: str) -> None:
    shared = tmp_path / "factory"
    a_config = write_station(tmp_path / "a", "line1-st01", shared, station_role, [])  # for the sim's key
    sim = subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", "sim", "ppa", "--count", "3", "--config", str(a_config)],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        units = [json.loads(sim.stdout.readline()) for _ in range(3)]
        urls = [unit["http"] for unit in units]
        a_config = write_station(tmp_path / "a", "line1-st01", shared, station_role, urls[:2])
        first = station_cli("run", "--config", str(a_config), "--units", "2", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr

        wipe(urls[0], open_file_key(f"file:{shared / 'checkin.key'}", shared).x25519())
        b_config = write_station(tmp_path / "b", "line1-st02", shared, station_role, [urls[0], urls[2]])
        second = station_cli("run", "--config", str(b_config), "--units", "2", cwd=tmp_path)
        assert second.returncode == 1, second.stdout + second.stderr  # one unit refused
    finally:
        sim.terminate()
        sim.wait(30)

    assert "attest: unit was provisioned earlier by station line1-st01" in second.stdout, second.stdout
    line = PostgresStore(station_role)
    assert line.stations() == ["line1-st01", "line1-st02"]
    assert [r.seq for r in line.records(station_id="line1-st01")] == [1, 2]
    assert [r.seq for r in line.records(station_id="line1-st02")] == [1, 2]
    entry = line.find_production(devid=units[0]["devid"])
    assert entry is not None and entry.station_id == "line1-st01"
    b_records = list(SqliteStore(tmp_path / "b" / "data" / "records.sqlite3").records())
    (refused,) = [r for r in b_records if r.genuine_id == entry.genuine_id]  # the same secure element
    assert refused.outcome == "fail"
    assert refused.payload["failure"]["code"] == "already-provisioned"
    assert f"record {entry.record_id}" in refused.payload["failure"]["message"]
    (fresh,) = [r for r in b_records if r.devid == units[2]["devid"]]
    assert fresh.outcome == "pass"

    verify = station_cli("records", "verify", "--store", station_role, cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "line1-st01 seq 1-2, line1-st02 seq 1-2" in verify.stdout
    assert "OK: every record verifies" in verify.stdout

    show = station_cli("records", "show", "--config", str(b_config), refused.record_id, cwd=tmp_path)
    assert "line db      sent" in show.stdout, show.stdout + show.stderr
