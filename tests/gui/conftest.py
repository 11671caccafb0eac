"""The operator window under pytest-qt, offscreen: demo stations (fast timing) and sessions over them.

Example::

    def test_something(qtbot: QtBot, gui: Gui) -> None:
        session = gui.session(gui.station(fixtures=2), units=2)
        with qtbot.waitSignal(session.runner.stopped, timeout=DEADLINE_MS):
            session.start()                                       # window shown, station running

    session = gui.login_session(gui.demo_opener(fixtures=2), units=1)   # with accounts and a login page
    log_in(qtbot, session, "B0042", OPERATOR_PIN)                       # through the login page's fields

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
from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse

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


QT_FREE = {
    "test_qt_available.py",
    "test_palette.py",
    "test_slots.py",
    "test_words.py",
    "test_verdicts.py",
    "test_passphrases.py",
    "test_modenames.py",
    "test_faults.py",
    "test_benchmap.py",
}
if QT_PROBLEM is not None and not in_ci():
    collect_ignore = [p.name for p in Path(__file__).parent.glob("test_*.py") if p.name not in QT_FREE]

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from station.app.station import Station
    from station.gui.model.opener import StationOpener
    from station.gui.workers.session import Session

DEADLINE_MS = 120_000  # a deadline for polled conditions, not a speed requirement
ADMIN_PIN, OPERATOR_PIN, QA_PIN, RMA_PIN = "482913", "905172", "730418", "615290"
ACCOUNTS = {  # badge: (role, PIN)
    "A0001": ("admin", ADMIN_PIN),
    "B0042": ("operator", OPERATOR_PIN),
    "Q0007": ("qa", QA_PIN),
    "R0003": ("rma", RMA_PIN),
}


@dataclass
class Gui:
    """Opens demo stations in ``tmp_path`` and GUI sessions over them; everything is closed at teardown."""

    tmp_path: Path
    stations: list[Station] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def station(self, fixtures: int = 1) -> Station:
        from station.app.demo import demo_config
        from station.app.station import Station

        data = self.tmp_path / f"station{len(self.stations)}"
        station = Station.open(demo_config(data, fixtures=fixtures), data_dir=data, timing="fast")
        self.stations.append(station)
        return station

    def session(self, station: Station, units: int | None) -> Session:
        """A session over ``station``, not started yet (connect what the test watches, then start)."""
        from station.gui.workers.session import Session

        session = Session(station, units)
        self.sessions.append(session)
        return session

    def demo_opener(self, fixtures: int = 1, family: str = "ppa", **changes: object) -> StationOpener:
        """A fast demo station's opener; ``changes`` replace fields of its configuration (``label=...``)."""
        import dataclasses

        from station.app.demo import demo_config
        from station.gui.model.opener import StationOpener

        data = self.tmp_path / f"station{len(self.stations)}-{len(self.sessions)}"
        config = dataclasses.replace(demo_config(data, fixtures=fixtures, family=family), **changes)  # type: ignore[arg-type]
        return StationOpener(config, data_dir=data, timing="fast")

    def login_session(
        self,
        opener: StationOpener,
        units: int | None,
        accounts: dict[str, tuple[str, str]] | None = None,
    ) -> Session:
        """A session with a login page over ``opener``'s station, with ``accounts`` (default ``ACCOUNTS``;
        ``{}``: a station without accounts). PINs are hashed cheaply here (scrypt n=2**10)."""
        from functools import partial

        from station.access.pins import Pin, hash_pin
        from station.gui.model.accounts import first_account_text, open_operator_session
        from station.gui.workers.accessworker import AccessWorker
        from station.gui.workers.session import Session
        from station.records import jws

        station = opener.open()
        self.stations.append(station)
        operators = open_operator_session(
            opener.config, station.data_dir, environ=opener.environ, hasher=partial(hash_pin, n=2**10)
        )
        added = None
        for badge, (role, pin) in sorted((accounts if accounts is not None else ACCOUNTS).items()):
            user = operators.users.add(badge, f"Test {role}", role, Pin(pin), by=added)
            added = added or user.operator
        worker = AccessWorker(operators, jws.trusted_keys_from([station.signing_public_key]))
        no_accounts = None if added else first_account_text(opener.config, station.data_dir)
        session = Session(station, units, access=worker, opener=opener, no_accounts=no_accounts)
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


def log_in(qtbot: QtBot, session: Session, badge: str, pin: str, *, running: bool = True) -> None:
    """Type ``badge`` and ``pin`` into the login page as an operator does; wait for the login (and, with
    ``running``, for the station to run for them)."""
    from PySide6.QtCore import Qt

    assert session.access is not None
    login = session.window.login
    qtbot.keyClicks(login.badge, badge)
    qtbot.keyClick(login.badge, Qt.Key.Key_Return)
    qtbot.keyClicks(login.pin, pin)
    signal = session.host.attached if running else session.access.logged_in
    with qtbot.waitSignal(signal, timeout=DEADLINE_MS):
        qtbot.keyClick(login.pin, Qt.Key.Key_Return)
