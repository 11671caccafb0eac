"""``station run`` stopped by SIGTERM or Ctrl-C while a unit holds its request: it exits within seconds.

Real processes, as ``test_crash_recovery.py``: ``station sim ppa`` (the unit, outliving the station) behind
``tests/quietunit.py`` (which holds one request, silent or dripping), and ``station run`` over a ``network``
fixture at the proxy. The stop cuts the held request; a run that had journalled a write stays open, as
after a crash, and the next start resumes it. A second signal exits at once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from station.cli import run as cli_run
from tests.quietunit import QuietUnit
from tests.test_crash_recovery import records, spawn, wait_until, write_config

EXITS_WITHIN = 6.0  # seconds from the signal to the process's exit (generous: the requests are cut at once)
PROVISIONING = "POST /api/system/config/provisioning"


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[str]:
    """A simulated unit in its own process, trusting the station's check-in key; its HTTP URL."""
    sim = spawn("sim", "ppa", "--count", "1", "--data", str(tmp_path / "data"), cwd=tmp_path)
    try:
        assert sim.stdout is not None
        yield str(json.loads(sim.stdout.readline())["http"])
    finally:
        sim.terminate()
        sim.wait(10)


def open_runs(data: Path) -> int:
    with sqlite3.connect(data / "records.sqlite3") as connection:
        return int(connection.execute("SELECT COUNT(*) FROM runs WHERE state = 'open'").fetchone()[0])


def record_count(data: Path) -> int:
    with sqlite3.connect(data / "records.sqlite3") as connection:
        return int(connection.execute("SELECT COUNT(*) FROM records").fetchone()[0])


@dataclass(frozen=True)
class Case:
    signum: int
    hold: str  # the request the unit holds
    mode: str  # silent | drip
    left_open: bool  # the run had journalled a write when the signal came


CASES = {
    "sigterm-silent-provision": Case(signal.SIGTERM, PROVISIONING, "silent", left_open=True),
    "sigint-dripping-identify": Case(signal.SIGINT, "GET /api/system/version", "drip", left_open=False),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_signal_stops_the_run_within_seconds_and_the_next_start_finishes_the_unit(
    tmp_path: Path, unit: str, case: Case
) -> None:
    data, left_open = tmp_path / "data", case.left_open
    with QuietUnit(unit, case.hold, mode=case.mode, times=1, drip_every=0.2) as proxy:
        write_config(tmp_path, proxy.url)
        station = spawn("run", "--units", "1", cwd=tmp_path)
        try:
            wait_until(lambda: proxy.held.is_set() or station.poll() is not None, "the held request", 60)
            assert station.poll() is None, station.communicate()
            time.sleep(0.3)  # the request is well under way
            signalled = time.monotonic()
            station.send_signal(case.signum)
            out, err = station.communicate(timeout=60)
            seconds = time.monotonic() - signalled
        finally:
            if station.poll() is None:
                station.kill()
                station.wait()

        assert seconds < EXITS_WITHIN, (seconds, out, err)
        assert "Traceback" not in err, err
        assert "stopping" in err
        assert station.returncode == 1, out + err  # an interrupted run is not a pass
        assert open_runs(data) == (1 if left_open else 0)
        assert record_count(data) == (0 if left_open else 1)  # no false FAIL; aborted if nothing written
        if left_open:
            assert "left open by the stop: 1 run(s)" in out

        again = spawn("run", "--units", "1", cwd=tmp_path)
        out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    kept = records(data)  # also: no run left open
    outcomes = [record["outcome"] for record in kept]
    assert outcomes == (["pass"] if left_open else ["aborted", "pass"])
    verify = spawn("records", "verify", "--data", str(data), cwd=tmp_path)
    out, err = verify.communicate(timeout=60)
    assert verify.returncode == 0, out + err


class _Station:
    """Enough of a Station for the signal handler: ``stop`` is noted."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


def test_the_first_signal_stops_the_station_and_a_second_exits_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exits: list[int] = []

    def exit_now(code: int) -> None:
        exits.append(code)

    monkeypatch.setattr(os, "_exit", exit_now)
    station, before = _Station(), signal.getsignal(signal.SIGTERM)
    with cli_run._stop_on_signals(station):  # type: ignore[arg-type]
        signal.raise_signal(signal.SIGTERM)
        assert station.stopped.wait(5)  # stopped from a thread of its own
        assert exits == []
        signal.raise_signal(signal.SIGINT)
        assert exits == [128 + signal.SIGINT]
    assert "signal again to exit at once" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers of before the run are back
