"""The station's blocking run in a worker thread, with its end reported to the GUI thread as a signal.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> class Broken:                                     # a station whose run stops with a StationError
...     def run(self, units): raise StationError("no fixture answers")
>>> said = []; runner = StationRunner(Broken()); _ = runner.stopped.connect(said.append)
>>> runner.start(); _ = runner.wait(5); app.processEvents(); said    # delivered in the GUI thread
['The station stopped: no fixture answers']
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
