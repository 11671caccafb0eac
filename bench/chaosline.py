"""The chaos run's line: the simulated units, ``station run`` started and SIGKILLed, and the schedule.

Example::

    plan = ChaosPlan(units=200, fixtures=8, kills=20, seed=3, swap_after=4.0)
    with ChaosLine(plan, folder) as line:       # folder/station.toml, folder/data, folder/logs, ledger
        log = drive(plan, line)                  # returns once >= 200 records exist and no run is open
    log.kills, log.crashes

Processes, not threads: the station is ``python -m station.cli.main run`` exactly as on a line, so a kill is a
real SIGKILL of a real process (no ``finally``, no atexit, half-written SQLite transactions), and the
simulator (``bench.chaossim``) outlives it as real units would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from station.core.config import KeysSection
from station.devices.ppa.protocol import generate_mnemonic

REPO = Path(__file__).resolve().parents[1]
# The key the shipped TEST firmware_images/manifest.json is signed with, as the shipped station.toml names it.
SHIPPED_RELEASE_KEY = tomllib.loads((REPO / "station.toml").read_text("utf-8"))["firmware"]["release_key"]
POLL = 0.1  # seconds between looks at the records database
KILL_JITTER = 3.0  # a kill lands this many seconds (at most, uniformly) after its record count
STALL = 180.0  # no new record for this long while the station runs: the run cannot finish, stop it
STOP_TIMEOUT = 30.0
CRASHES_IN_A_ROW = 3  # the station cannot run at all (a broken checkout): stop instead of looping
# Every kind the issue names, on every request but the status polls (a network fixture's presence: a
# failed poll reads as "unit removed" and would stage a re-insertion the operator never made).
# Per request: about 2% faulted; a unit makes about 25 requests, so about 4 units in 10 see a fault.
FAULTS = (("drop", 0.006, ""), ("500", 0.005, ""), ("garbage", 0.004, ""), ("delay", 0.004, " s=1"))
UNPLUG = ("unplug", 0.001, " replug=1")  # a fresh unit one second later
NOT_STATUS = ("/api/[!s]*", "/api/system/[!s]*")


class ChaosError(RuntimeError):
    """The chaos run could not finish (no progress, a process that would not start)."""


@dataclass(frozen=True)
class ChaosPlan:
    units: int
    fixtures: int
    kills: int
    seed: int
    swap_after: float
    restart_pause: float | None = None  # longest pause before a restart; None: 1.25 * swap_after

    @property
    def longest_pause(self) -> float:
        """Pauses up to past ``swap_after``: shorter ones resume runs, longer ones find units swapped."""
        return self.swap_after * 1.25 if self.restart_pause is None else self.restart_pause

    def fault_spec(self) -> str:
        rules = [f"seed={self.seed}"]
        for kind, probability, extra in (*FAULTS, UNPLUG):
            rules.extend(f"{kind} p={probability} path={path}{extra}" for path in NOT_STATUS)
        return "; ".join(rules)

    def slot_names(self) -> list[str]:
        return [f"X{index + 1}" for index in range(self.fixtures)]

    def slot_index(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.slot_names())}

    def keys(self) -> KeysSection:
        return KeysSection()  # station.toml names no [keys]: file keys under data/keys

    def kill_points(self, rng: random.Random) -> list[int]:
        """Record counts at which to kill: evenly spaced, each moved by up to half a spacing."""
        spacing = self.units / (self.kills + 1)
        return sorted(
            max(0, round(spacing * (index + 1) + rng.uniform(-spacing / 2, spacing / 2)))
            for index in range(self.kills)
        )


@dataclass
class DriveLog:
    starts: int = 0
    kills: int = 0
    crashes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class ChaosLine:
    """The folder, the simulator child and the station children of one chaos run."""

    def __init__(self, plan: ChaosPlan, folder: Path) -> None:
        self.plan, self.folder = plan, folder
        self.data, self.logs = folder / "data", folder / "logs"
        self._sim: subprocess.Popen[str] | None = None
        self._station: subprocess.Popen[bytes] | None = None
        self._env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "STATION_BATCH_PASSPHRASE": f"chaos passphrase {plan.seed}",
            "STATION_BATCH_MNEMONIC": generate_mnemonic(),
        }

    def __enter__(self) -> ChaosLine:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self._write_config(self._start_simulator())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._station is not None and self._station.poll() is None:
            self._station.kill()
            self._station.wait()
        sim, self._sim = self._sim, None
        if sim is not None:
            assert sim.stdin is not None and sim.stdout is not None
            sim.stdin.close()  # the simulator logs each unit's final state and exits
            try:
                sim.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()
            sim.stdout.close()

    def _start_simulator(self) -> list[str]:
        args = [sys.executable, "-m", "bench.chaossim", "--count", str(self.plan.fixtures)]
        args += ["--data", str(self.data), "--faults", self.plan.fault_spec()]
        args += ["--swap-after", str(self.plan.swap_after), "--ledger", str(self.folder / "ledger.jsonl")]
        with (self.logs / "simulator.err").open("w") as err:
            self._sim = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                args,
                cwd=REPO,
                env=self._env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self._sim.stdout is not None
        urls = []
        for _ in range(self.plan.fixtures):
            line = self._sim.stdout.readline()
            if not line:
                raise ChaosError(f"the simulator exited; see {self.logs / 'simulator.err'}")
            urls.append(json.loads(line)["http"])
        return urls

    def _write_config(self, urls: list[str]) -> None:
        fixtures = "".join(
            f'\n[[fixture]]\nslot = "{name}"\nkind = "network"\nurl = "{url}"\n'
            for name, url in zip(self.plan.slot_names(), urls, strict=True)
        )
        (self.folder / "station.toml").write_text(
            f"""# written by bench/chaos.py
[station]
id = "chaos-st01"
data_dir = "data"
simulated = true
[firmware]
dir = "{REPO / "firmware_images"}"
require = "Encedo nGINE FW v1.2.3"
release_key = "{SHIPPED_RELEASE_KEY}"
[profile.default]
secrets = "batch"
passphrase_env = "STATION_BATCH_PASSPHRASE"
mnemonic_env = "STATION_BATCH_MNEMONIC"
{fixtures}"""
        )

    def start_station(self, units: int, number: int) -> subprocess.Popen[bytes]:
        args = [
            sys.executable,
            "-m",
            "station.cli.main",
            "run",
            "--config",
            "station.toml",
            "--units",
            str(units),
        ]
        with (
            (self.logs / f"station-{number:03d}.out").open("wb") as out,
            (self.logs / f"station-{number:03d}.err").open("wb") as err,
        ):
            self._station = subprocess.Popen(args, cwd=self.folder, env=self._env, stdout=out, stderr=err)  # noqa: S603
        return self._station

    def counts(self) -> tuple[int, int]:
        """(records, open runs) as the database says now; (0, 0) before the station created it."""
        path = self.data / "records.sqlite3"
        for _ in range(50):
            if not path.exists():
                return 0, 0
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
                    records = connection.execute("SELECT COUNT(*) FROM records").fetchone()[0]
                    runs = connection.execute("SELECT COUNT(*) FROM runs WHERE state = 'open'").fetchone()[0]
                return int(records), int(runs)
            except sqlite3.OperationalError:  # the station is creating its schema: look again
                time.sleep(POLL)
        raise ChaosError(f"cannot read {path}")

    def traceback_in(self, number: int) -> bool:
        return b"Traceback" in (self.logs / f"station-{number:03d}.err").read_bytes()


def drive(plan: ChaosPlan, line: ChaosLine) -> DriveLog:
    """Start, kill and restart the station until ``plan.units`` records exist and no run is open."""
    rng = random.Random(f"chaos:{plan.seed}")
    kill_points, log, started = plan.kill_points(rng), DriveLog(), time.monotonic()
    crashed_in_a_row = 0
    while True:
        records, open_runs = line.counts()
        if records >= plan.units and open_runs == 0:
            break
        if log.starts > plan.kills + 20:
            raise ChaosError(
                f"{log.starts} station starts and still {open_runs} open runs, {records} records"
            )
        log.starts += 1
        station = line.start_station(max(plan.units - records, plan.fixtures), log.starts)
        killed = bool(kill_points) and _kill_at(line, station, kill_points.pop(0), rng)
        if killed:
            log.kills += 1
            time.sleep(rng.uniform(0, plan.longest_pause))
        else:
            _wait_exit(line, station)
        if (not killed and station.returncode not in (0, 1)) or line.traceback_in(log.starts):
            log.crashes, crashed_in_a_row = log.crashes + 1, crashed_in_a_row + 1
            log.notes.append(f"station start {log.starts} crashed ({station.returncode}); see {line.logs}")
            if crashed_in_a_row == CRASHES_IN_A_ROW:
                raise ChaosError(f"the station crashed {CRASHES_IN_A_ROW} times in a row; see {line.logs}")
        else:
            crashed_in_a_row = 0
    log.seconds = time.monotonic() - started
    if log.kills < plan.kills:
        log.notes.append(f"{log.kills} of {plan.kills} kills: the station finished before the others")
    return log


def _kill_at(line: ChaosLine, station: subprocess.Popen[bytes], records: int, rng: random.Random) -> bool:
    """SIGKILL once the records reach ``records`` plus a random moment; False if it ended first."""
    _watch(line, station, lambda: line.counts()[0] >= records)
    deadline = time.monotonic() + rng.uniform(0, KILL_JITTER)
    while station.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL)
    if station.poll() is not None:
        return False
    station.send_signal(signal.SIGKILL)
    station.wait()
    return True


def _wait_exit(line: ChaosLine, station: subprocess.Popen[bytes]) -> None:
    _watch(line, station, lambda: False)


def _watch(line: ChaosLine, station: subprocess.Popen[bytes], done: Callable[[], bool]) -> None:
    """Until ``done()`` or the station exits; a station making no record for STALL seconds is stopped."""
    last, since = line.counts()[0], time.monotonic()
    while station.poll() is None and not done():
        time.sleep(POLL)
        records = line.counts()[0]
        if records != last:
            last, since = records, time.monotonic()
        elif time.monotonic() - since > STALL:
            station.kill()
            station.wait()
            raise ChaosError(f"no record for {STALL:g} s with {records} records; see {line.logs}")
