"""The operator window under pytest-qt, offscreen: demo stations (fast timing) and sessions over them.

Example::

    def test_something(qtbot: QtBot, gui: Gui) -> None:
        session = gui.session(gui.station(fixtures=2), units=2)
        with qtbot.waitSignal(session.runner.stopped, timeout=DEADLINE_MS):
            session.start()                                       # window shown, station running

Without PySide6 (or the Qt runtime libraries) the Qt test modules are not collected and
``test_qt_available`` says why: a skip on a developer's machine, a failure under CI.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.requirements import in_ci

try:
    from PySide6 import QtWidgets  # noqa: F401 - loads the Qt libraries: missing system libraries show here

    QT_PROBLEM: str | None = None
except ImportError as exc:
    QT_PROBLEM = f"PySide6 cannot load ({exc}); pip install -e '.[gui]' and the Qt runtime libraries"


def pytest_configure(config: pytest.Config) -> None:
    """Load pytest-qt (``-p no:pytest-qt`` in pyproject) only when Qt loads: without the Qt libraries it
    would stop the whole session at start-up, not just skip the window tests."""
    if QT_PROBLEM is None and not config.pluginmanager.has_plugin("pytestqt.plugin"):
        config.pluginmanager.import_plugin("pytestqt.plugin")


QT_FREE = {"test_qt_available.py", "test_palette.py", "test_slots.py", "test_words.py"}
if QT_PROBLEM is not None and not in_ci():
    collect_ignore = [p.name for p in Path(__file__).parent.glob("test_*.py") if p.name not in QT_FREE]

if TYPE_CHECKING:
    from station.gui.session import Session
    from station.station import Station

DEADLINE_MS = 120_000  # a deadline for polled conditions, not a speed requirement


@dataclass
class Gui:
    """Opens demo stations in ``tmp_path`` and GUI sessions over them; everything is closed at teardown."""

    tmp_path: Path
    stations: list[Station] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def station(self, fixtures: int = 1) -> Station:
        from station.demo import demo_config
        from station.station import Station

        data = self.tmp_path / f"station{len(self.stations)}"
        station = Station.open(demo_config(data, fixtures=fixtures), data_dir=data, timing="fast")
        self.stations.append(station)
        return station

    def session(self, station: Station, units: int | None) -> Session:
        """A session over ``station``, not started yet (connect what the test watches, then start)."""
        from station.gui.session import Session

        session = Session(station, units)
        self.sessions.append(session)
        return session

    def close(self) -> None:
        for session in self.sessions:
            session.shutdown()
            session.window.deleteLater()
            session.deleteLater()
        for station in self.stations:
            station.close()


@pytest.fixture
def gui(tmp_path: Path) -> Iterator[Gui]:
    opened = Gui(tmp_path)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _qt_objects_die_here() -> Iterator[None]:
    """After each test (and after qtbot closed its widgets): delete its Qt objects now, in this thread.

    Left to Python's cyclic garbage collector, a window could be destroyed later by whichever thread
    happens to collect (a slot worker of another test), and Qt objects must die in their own thread.
    """
    yield
    if QT_PROBLEM is None:
        from PySide6.QtCore import QCoreApplication, QEvent

        if QCoreApplication.instance() is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            gc.collect()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
