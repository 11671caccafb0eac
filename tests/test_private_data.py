"""A station's data is its owner's only: made 0700/0600 under a umask of 022, refused with the chmod that
fixes it when group or others may read it; a weak batch passphrase stops a station that personalises.

Every test runs under umask 022 (the usual default, which would leave files 0644 and folders 0755).
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.data import StationData
from station.app.demo import demo_config
from station.app.station import Station
from station.cli.main import main
from station.core.config import Profile, StationConfig, load
from station.core.errors import ConfigError
from station.core.events import Outcome
from station.devices.ppa.protocol import generate_mnemonic
from station.factory.keys.secrets import generate_passphrase
from station.factory.keys.strength import MIN_BITS, estimated_bits, weak_passphrase_problem

REPO = Path(__file__).resolve().parent.parent
WEAK = "hunter2"
STRONG = "seven lines of widgets, batch 2024"


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def open_to_others(folder: Path) -> list[str]:
    """``folder`` and everything under it that group or others may use, with its mode."""
    return [
        f"{path} {stat.S_IMODE(path.stat().st_mode):o}"
        for path in [folder, *folder.rglob("*")]
        if path.stat().st_mode & 0o077
    ]


def new_station(data: Path) -> Station:
    return Station.open(demo_config(data, fixtures=1))


# --- made private ---------------------------------------------------------------------------------------


def test_a_new_station_makes_its_folders_and_files_private(tmp_path: Path) -> None:
    data = tmp_path / "line7" / "data"  # its parent is missing too
    station = new_station(data)
    try:
        (verdict,) = station.run(units=1)
        with station.store.connect() as connection:  # while open, SQLite keeps its WAL and shared memory
            connection.execute("SELECT count(*) FROM records").fetchone()
            made = {path.relative_to(data).as_posix() for path in data.rglob("*")}
            during = open_to_others(tmp_path / "line7")
    finally:
        station.close()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    expected = {"records.sqlite3", "records.sqlite3-wal", "records.sqlite3-shm", "station.lock", "keys"}
    assert expected | {"keys/station-signing.pem", "keys/factory-ca.pem", "keys/checkin.key"} <= made
    assert during == []
    assert open_to_others(tmp_path / "line7") == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_the_shipped_configuration_starts_and_keeps_its_data_private(tmp_path: Path) -> None:
    station = Station.open(load(REPO / "station.toml"), data_dir=tmp_path / "station-data")
    station.close()
    assert (tmp_path / "station-data" / "records.sqlite3").exists()
    assert open_to_others(tmp_path / "station-data") == []


def test_the_command_line_makes_everything_private_and_restores_the_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "demo"
    command = ["demo", "--fixtures", "2", "--units", "2", "--family", "mixed", "--data", str(data)]
    assert main(command) == 0, capsys.readouterr()
    assert os.umask(0o022) == 0o022  # as it was before the command
    assert {"records.sqlite3", "demo-readers.json"} <= {path.name for path in data.iterdir()}
    assert open_to_others(data) == []  # the readers' profile too: written under the command's umask 077


def test_the_demo_without_data_makes_a_private_temporary_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station.cli.main", "demo", "--fixtures", "1", "--units", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = tmp_path.glob("station-demo-*")
    assert f"data directory: {folder}" in result.stdout
    assert open_to_others(folder) == []


# --- refused when open to others -----------------------------------------------------------------------


def test_a_store_others_can_read_is_refused_with_the_chmod_that_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    new_station(data).close()
    store = data / "records.sqlite3"
    store.chmod(0o644)  # as a station before this check left it under umask 022
    with pytest.raises(
        ConfigError, match=f"record store is readable by others \\(mode 644\\); run chmod 600 {store}$"
    ):
        new_station(data)
    assert main(["records", "verify", "--data", str(data)]) == 2  # the readers too: one line, exit 2
    assert f"run chmod 600 {store}" in capsys.readouterr().err
    store.chmod(0o600)  # the fix the message gives
    new_station(data).close()


def test_a_readable_write_ahead_log_is_named_beside_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    new_station(data).close()
    store, wal = data / "records.sqlite3", data / "records.sqlite3-wal"
    store.chmod(0o640)
    wal.touch(mode=0o644)  # an empty log, as SQLite leaves one
    with pytest.raises(ConfigError) as refused:
        StationData.open(None, data_dir=data).store()
    assert f"run chmod 600 {store} {wal}" in str(refused.value)
    assert "records.sqlite3 640, records.sqlite3-wal 644" in str(refused.value)


def test_a_data_directory_others_can_enter_is_refused_with_the_chmod_that_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    new_station(data).close()
    data.chmod(0o711)  # others cannot list it, but can open what they know the name of
    with pytest.raises(
        ConfigError, match=f"data directory is open to others \\(mode 711\\); run chmod 700 {data}"
    ):
        new_station(data)
    assert main(["records", "export", "--data", str(data)]) == 2
    assert f"run chmod 700 {data}" in capsys.readouterr().err
    data.chmod(0o700)
    new_station(data).close()


def test_a_data_directory_made_by_hand_under_umask_022_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()  # 0755
    with pytest.raises(ConfigError, match="run chmod 700"):
        Station.open(demo_config(tmp_path / "keys-elsewhere", fixtures=1), data_dir=data)
    assert list(data.iterdir()) == []


# --- batch passphrases ----------------------------------------------------------------------------------


def batch_station(folder: Path) -> StationConfig:
    config = demo_config(folder, fixtures=1)
    profile = Profile(user="Batch", secrets="batch", passphrase_env="P", mnemonic_env="M")
    return dataclasses.replace(config, profiles={"default": profile})


def test_a_weak_batch_passphrase_stops_production_and_rma_naming_its_source_not_its_value(
    tmp_path: Path,
) -> None:
    config = batch_station(tmp_path / "data")
    for mode in ("production", "rma"):
        with pytest.raises(ConfigError, match="too weak: at least 60 bits") as refused:
            Station.open(config, environ={"P": WEAK, "M": generate_mnemonic()}, mode=mode)
        assert refused.value.key == "profile.default.passphrase_env"
        assert "environment variable P" in str(refused.value) and WEAK not in str(refused.value)


def test_a_strong_batch_passphrase_is_accepted_and_qa_may_log_in_with_an_old_weak_one(tmp_path: Path) -> None:
    config = batch_station(tmp_path / "data")
    Station.open(config, environ={"P": STRONG, "M": generate_mnemonic()}).close()
    Station.open(config, environ={"P": WEAK, "M": generate_mnemonic()}, mode="qa").close()  # writes none


def test_the_strength_rule() -> None:
    assert weak_passphrase_problem(WEAK) is not None and round(estimated_bits(WEAK)) == 36  # 7 x log2(36)
    assert weak_passphrase_problem(STRONG) is None
    assert estimated_bits("Password123!") < MIN_BITS  # "ss" and "123" hardly count
    assert estimated_bits("x" * 64) < MIN_BITS  # one character repeated
    assert estimated_bits("") == 0.0
    assert all(weak_passphrase_problem(generate_passphrase()) is None for _ in range(200))  # the sealed ones
