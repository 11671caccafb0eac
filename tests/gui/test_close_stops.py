"""Closing the window while a unit holds its request: the station stops within seconds, the window closes.

A demo station's unit is made silent on ``GET /api/system/version`` for a minute (a ``delay`` fault);
closing the window then stops the station, which cuts the request: the run ends and the session shuts
down within seconds, not after the unit or the client's timeouts. A second SIGTERM/SIGINT exits at once.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from station.core.events import Outcome
from station.gui.workers.signals import QuitOnSignals
from station.sim.ppa.faults import FaultRule
from tests.gui.conftest import DEADLINE_MS, Gui
from tests.gui.test_run import unit_in

STOPS_WITHIN = 5.0  # seconds from the close to the session's end (generous; the request is cut at once)


def test_closing_the_window_during_a_silent_request_stops_the_station_within_seconds(
    qtbot: QtBot, gui: Gui
) -> None:
    station = gui.station(fixtures=1)
    silent = FaultRule("delay", path="/api/system/version", seconds=60, times=1)
    unit_in(station).faults.add(silent)
    session = gui.session(station, units=None)
    runner = session.runner
    assert runner is not None
    session.start()
    qtbot.waitUntil(lambda: silent.times == 0, timeout=DEADLINE_MS)  # the unit holds the request now
    time.sleep(0.3)

    closed = time.monotonic()
    session.window.close()  # the operator closes the window: the session stops the station
    qtbot.waitUntil(lambda: not runner.running, timeout=int(STOPS_WITHIN * 1000))
    session.shutdown()  # what the application does once its event loop has ended
    seconds = time.monotonic() - closed

    assert seconds < STOPS_WITHIN, seconds
    assert not session.window.isVisible()
    (record,) = list(station.store.records())  # identify wrote nothing: closed as aborted
    assert record.payload["outcome"] == str(Outcome.ABORTED)
    assert record.payload["failure"]["step"] == "identify"
    assert station.store.open_runs() == []


def test_a_second_signal_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    old = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
    quitter = QuitOnSignals(app)
    quitter._notifier.setEnabled(False)  # this test runs no event loop to quit
    try:
        signal.raise_signal(signal.SIGTERM)  # the first: the event loop is told (wakeup fd), nothing else
        assert exits == []
        signal.raise_signal(signal.SIGTERM)  # the second, while the window is still stopping
        assert exits == [128 + signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old[0])
        signal.signal(signal.SIGINT, old[1])
        signal.set_wakeup_fd(old[2])
        quitter.deleteLater()
