"""The station behind the window, swapped when the operator or the mode changes, without blocking the window.

>>> Target("qa", Operator("Q0007", "qa"))    # a switch: finish the units in progress, reopen in QA, run
Target(mode='qa', operator=Operator(id='Q0007', role='qa'), rma=None)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from station.app.station import Station
from station.core.errors import StationError
from station.core.operator import Operator
from station.gui.model.opener import StationOpener
from station.gui.workers.bridge import EventBridge
from station.gui.workers.runner import StationRunner
from station.pipeline.modes.rma.flow import RmaPolicy

log = logging.getLogger("station.gui")

JOIN_WITHIN = 5.0  # seconds the window waits for a stopped station's threads before it closes anyway


@dataclass(frozen=True)
class Target:
    """What the next station is opened for."""

    mode: str
    operator: Operator
    rma: RmaPolicy | None = None


class StationHost(QObject):
    """Owns the running station, its bridge and its run thread; switches them on request."""

    attached = Signal(object, object)  # Station, EventBridge: connect to the bridge before it runs
    ended = Signal(str)  # a run ended unasked: "" after a normal end (units quota), else the problem
    failed = Signal(str)  # a station could not be opened: a sentence for the banner
    idle = Signal()  # parked: no station runs (after a logout)
    _opened = Signal(object, int)  # Station | StationError, the target's serial (from the worker)

    def __init__(
        self, opener: StationOpener | None, units: int | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.opener = opener
        self.units = units
        self.station: Station | None = None
        self.bridge: EventBridge | None = None
        self.runner: StationRunner | None = None
        self.target: Target | None = None
        self._serial = 0  # bumped by every switch or park; an opened station of an older one is retired
        self._busy = False  # finishing a run, or closing/opening in the worker
        self._asked_to_end = False
        self._shut_down = False
        self._workers: list[threading.Thread] = []
        self._opened.connect(self._station_opened)

    @property
    def busy(self) -> bool:
        return self._busy

    def attach(self, station: Station) -> None:
        """Make ``station`` the running one (not started): a bridge on its bus and a run thread."""
        self.station = station
        self.bridge = EventBridge(station.bus, self)
        self.runner = StationRunner(station, self.units, self)
        self.runner.stopped.connect(self._run_ended)
        self._asked_to_end = False
        self.attached.emit(station, self.bridge)

    def start(self) -> None:
        if self.runner is not None and not self.runner.running:
            self.runner.start()

    def switch(self, target: Target) -> None:
        """Run ``target`` next: after the units in progress (if a station runs), in a reopened station."""
        self._request(target)

    def park(self) -> None:
        """Run nothing: let the units in progress finish, then close the station."""
        self._request(None)

    def shutdown(self) -> None:
        """The window closes: stop now (cooperative cancel), wait for every thread, close the station."""
        self._serial += 1
        self.target = None
        self._shut_down = True
        if self.runner is not None:
            self.runner.stop()  # cuts the open requests: the run ends within seconds
            if not self.runner.wait(JOIN_WITHIN):
                log.error("the station's run did not end within %g s of the stop; closing", JOIN_WITHIN)
        for worker in self._workers:
            worker.join(JOIN_WITHIN)
            if worker.is_alive():
                log.error("%s did not end within %g s; closing anyway", worker.name, JOIN_WITHIN)
        if self.bridge is not None:
            self.bridge.detach()
        if self.station is not None:
            self.station.close()
            self.station = None

    # --- the switch, step by step ----------------------------------------------------------------------

    def _request(self, target: Target | None) -> None:
        self.target = target
        self._serial += 1
        if self._busy:
            return  # taken up when the step in progress is done
        self._busy = True
        if self.runner is not None and self.runner.running:
            self._asked_to_end = True
            assert self.station is not None
            self.station.finish()  # the run thread ends once the units in progress have their verdicts
        else:
            self._replace()

    def _run_ended(self, problem: str) -> None:
        if self._asked_to_end and not problem:
            self._replace()
            return
        self.ended.emit(problem)  # the units quota was used up, or the station broke
        if self._busy:
            self._replace()

    def _replace(self) -> None:
        """Detach the old station here; close it and open the target's in a worker thread."""
        old, self.station = self.station, None
        if self.bridge is not None:
            self.bridge.detach()
        # The run thread has ended: its stopped signal brought us here, or it never ran.
        if self.runner is not None and not self.runner.wait(JOIN_WITHIN):
            log.error("the station's run thread did not end within %g s", JOIN_WITHIN)
        self.bridge = self.runner = None
        worker = threading.Thread(
            target=self._reopen, args=(old, self.target, self._serial), name="station-switch", daemon=True
        )
        self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def _reopen(self, old: Station | None, target: Target | None, serial: int) -> None:
        """Worker thread: close ``old``, open ``target``; the result goes back as a queued signal."""
        if old is not None:
            old.close()
        if target is None or self.opener is None:
            self._opened.emit(None, serial)
            return
        try:
            station: Station | StationError = self.opener.open(target.mode, target.operator, target.rma)
        except StationError as exc:
            log.error("the station could not be opened in %s mode: %s", target.mode, exc)
            station = exc
        if self._shut_down and isinstance(station, Station):
            station.close()  # the window closed while this one opened: nobody will run it
            return
        self._opened.emit(station, serial)

    def _station_opened(self, result: Station | StationError | None, serial: int) -> None:
        if serial != self._serial:  # the target changed meanwhile: retire this one, open the newest
            self.station = result if isinstance(result, Station) else None
            self._replace()
            return
        self._busy = False
        if isinstance(result, StationError):
            self.failed.emit(str(result))
        elif result is None:
            self.idle.emit()
        else:
            self.attach(result)
            self.start()
