"""One operator session: a station, its run thread, the bridge, the record checker and the window, wired.

Example::

    session = Session(station, units=None)     # None: keep provisioning until the window closes
    session.start()                            # shows the window, starts the station's worker thread
    app.exec()
    session.shutdown()                         # stop, join, unsubscribe, release fixtures

Tests build a ``Session`` over a fast simulated station and drive it with pytest-qt; ``station gui``
builds the same thing (``app.py``). Shutdown order matters: the station stops and its thread is joined
before the bridge leaves the bus, so no event is emitted towards widgets that are gone.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from station.gui.bridge import EventBridge
from station.gui.checker import RecordChecker
from station.gui.runner import StationRunner
from station.gui.search import Trust
from station.gui.window import MainWindow, WindowSetup
from station.records import jws
from station.station import Station

log = logging.getLogger("station.gui")


class Session(QObject):
    def __init__(self, station: Station, units: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self.bridge = EventBridge(station.bus, self)
        self.checker = RecordChecker(station.store, _trust(station), self)
        self.window = MainWindow(WindowSetup.of(station), self.checker)
        self.runner = StationRunner(station, units, self)
        self.bridge.engine_event.connect(self.window.apply)
        self.runner.stopped.connect(self.window.station_stopped)
        self.window.closing.connect(self.stop)
        self._closed = False

    def start(self, *, maximized: bool = False) -> None:
        if maximized:
            self.window.showMaximized()
        else:
            self.window.show()
        self.runner.start()

    def stop(self) -> None:
        """Ask the station to stop after the current steps (the window closing, or a test ending)."""
        self.runner.stop()

    def shutdown(self) -> None:
        """Stop and wait for the station, then detach the GUI from it and release the fixtures."""
        if self._closed:
            return
        self._closed = True
        self.runner.stop()
        self.runner.wait()
        self.bridge.detach()
        self.checker.shutdown()
        self.window.close()
        self.station.close()


def _trust(station: Station) -> Trust:
    """The station's own signing key and its factory CA (read once, at start)."""
    keys = jws.trusted_keys_from([station.signing_public_key])
    try:
        ca = station.ca_certificate()
    except Exception as exc:  # a remote backend may be unreachable right now: verify without the CA
        log.warning("factory CA certificate unavailable, records are verified without it: %s", exc)
        ca = None
    return Trust(keys, ca)
