"""``Station.stop`` while the unit holds a request: ``run`` returns within seconds, and no false verdict.

The unit sits behind ``tests/quietunit.py``, which holds one chosen request (silent or dripping) and passes
every other one to a simulated unit. A run stopped before it wrote to its unit is closed ``aborted``; one
stopped after its first write intent stays open in the journal, as after a crash, and the next start
resumes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.core.config import load
from station.core.events import Outcome
from station.pipeline.tally import Verdict
from tests.pipeline.conftest import (
    BATCH_ENV,
    PROFILE,
    STATION_ID,
    Line,
    _network_unit,
    failure_of,
    toml_text,
)
from tests.quietunit import QuietUnit

STOPS_WITHIN = 3.0  # seconds from stop() to run() returning (generous: the requests are cut at once)
PROVISIONING = "POST /api/system/config/provisioning"
QuietLine = Callable[..., tuple[Line, QuietUnit]]


@pytest.fixture
def quiet_line(tmp_path: Path) -> Iterator[QuietLine]:
    """A station whose one ``network`` slot reaches a simulated unit through a ``QuietUnit``."""
    opened: list[tuple[Line, QuietUnit]] = []

    def make(hold: str, **quiet: Any) -> tuple[Line, QuietUnit]:
        folder = tmp_path / "station"
        unit = _network_unit(folder / "data")
        proxy = QuietUnit(unit.http_url, hold, **quiet).start()
        document = {
            "station": {"id": STATION_ID, "data_dir": "data", "simulated": False},
            "firmware": {},
            "profile": {"default": dict(PROFILE)},
            "fixture": [{"slot": "N1", "kind": "network", "url": proxy.url}],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "station.toml").write_text(toml_text(document), encoding="utf-8")
        station = Station.open(load(folder / "station.toml"), environ=dict(BATCH_ENV))
        opened.append((Line(station, dict(BATCH_ENV), [unit]), proxy))
        return opened[-1]

    yield make
    for line, proxy in opened:
        proxy.stop()
        line.close()


def run_in_background(station: Station, units: int | None = 1) -> tuple[threading.Thread, list[Verdict]]:
    verdicts: list[Verdict] = []
    thread = threading.Thread(target=lambda: verdicts.extend(station.run(units=units)), daemon=True)
    thread.start()
    return thread, verdicts


def stop_when_held(station: Station, proxy: QuietUnit, thread: threading.Thread) -> tuple[float, float]:
    """Stop the station once the proxy holds the request; (monotonic time of the stop, seconds to return)."""
    assert proxy.held.wait(60), "the station never sent the request to hold"
    time.sleep(0.3)  # the request is well under way
    stopped_at = time.monotonic()
    station.stop()
    thread.join(30)
    assert not thread.is_alive(), "run() did not return after stop()"
    return stopped_at, time.monotonic() - stopped_at


def test_stop_during_a_dripping_identify_returns_at_once_and_closes_the_run_aborted(
    quiet_line: QuietLine,
) -> None:
    line, proxy = quiet_line("GET /api/system/version", mode="drip", drip_every=0.2)
    thread, verdicts = run_in_background(line.station, units=None)  # until stopped, as the CLI runs
    stopped_at, seconds = stop_when_held(line.station, proxy, thread)

    assert seconds < STOPS_WITHIN, seconds
    assert proxy.requests_after(stopped_at) == []  # nothing more reached the unit after the stop
    (verdict,) = verdicts  # nothing was written: the run may be closed, and is, as aborted
    assert verdict.outcome is Outcome.ABORTED
    step, code, _ = failure_of(verdict)
    assert (step, code) == ("identify", "cancelled")
    assert line.station.store.open_runs() == []
    assert line.verify().ok


def test_stop_during_a_silent_write_leaves_the_run_open_and_the_next_start_resumes_it(
    quiet_line: QuietLine,
) -> None:
    line, proxy = quiet_line(PROVISIONING, times=1)  # the unit never gets the provisioning request
    thread, verdicts = run_in_background(line.station)
    stopped_at, seconds = stop_when_held(line.station, proxy, thread)

    assert seconds < STOPS_WITHIN, seconds
    assert verdicts == [] and line.records() == []  # no false FAIL (nor any) record
    (open_run,) = line.station.store.open_runs()
    assert line.station.tally is not None and line.station.tally.left_open == [open_run.run_id]
    phases = [(entry.step, entry.phase) for entry in line.station.store.run_journal(open_run.run_id)]
    assert ("provision", "intent") in phases
    assert proxy.requests_after(stopped_at) == []

    again = line.reopen("production")
    (verdict,) = again.run()
    assert verdict.run_id == open_run.run_id  # resumed, not replaced
    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert again.station.store.open_runs() == []
    assert len(again.records()) == 1
    assert again.verify().ok
    again.close()


@pytest.mark.slow
def test_a_silent_identify_in_a_whole_run_ends_at_the_steps_deadline(quiet_line: QuietLine) -> None:
    """The issue's case: a silent unit took 31.5 s against identify's limit (3 tries of 10 s + backoff)."""
    line, _ = quiet_line("GET /api/system/version")
    started = time.monotonic()
    (verdict,) = line.run()
    seconds = time.monotonic() - started

    assert seconds < 30 + 2.0, seconds  # identify's 30 s deadline, plus the steps before (none) and slack
    assert verdict.outcome is Outcome.ERROR
    assert failure_of(verdict) == ("identify", "timeout", "no answer within its 30 s deadline")
