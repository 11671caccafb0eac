"""The station's blocking run in a worker thread, with its end reported to the GUI thread as a signal.

Example::

    runner = StationRunner(station, units=None)     # None: until stop()
    runner.stopped.connect(window.station_stopped)   # text is "" after a normal stop
    runner.start()
    ...
    runner.stop()                                    # cooperative: slots stop after their current step
    runner.wait()                                    # join, after the event loop has ended

The core is blocking (one thread per fixture, joined by ``Station.run``); the window never waits on it.
An exception out of ``run`` is a bug or a broken installation: its traceback goes to the log and the
window gets a sentence to show.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from station.app.station import Station
from station.core.errors import StationError

log = logging.getLogger("station.gui")


class StationRunner(QObject):
    """Runs ``station.run(units)`` once in a daemon thread; ``stopped(str)`` says why it ended."""

    stopped = Signal(str)

    def __init__(self, station: Station, units: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self.units = units
        self._thread = threading.Thread(target=self._run, name="station-run", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.station.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the run thread; True once it has ended."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.station.run(units=self.units)
        except StationError as exc:
            log.error("station stopped: %s", exc)
            self.stopped.emit(f"The station stopped: {exc}")
        except Exception:
            log.exception("station run failed")
            self.stopped.emit("The station stopped because of an internal error; the details are in the log.")
        else:
            self.stopped.emit("")
