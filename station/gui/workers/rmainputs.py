"""What the operator gives the RMA flow through the window: customer passphrases and the unknown-unit choice.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> from station.gui.widgets.window import WindowSetup; from station.gui.workers.checker import RecordChecker
>>> window = MainWindow(WindowSetup("line1-st01", "default", ("A1",)), RecordChecker(store=None, trust=None))
>>> inputs = RmaInputs(window, station_of=lambda: None)        # station_of: the running station or None
>>> inputs.policy().unknown_unit, inputs.policy().customer_passphrase is inputs.box
('refuse', True)
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from station.app.station import Station
from station.core.errors import StationError
from station.core.events import Event, RunFinished, StepFinished
from station.gui.model.passphrases import PassphraseBox
from station.gui.widgets.window import MainWindow
from station.pipeline.modes.rma.flow import RmaPolicy
from station.pipeline.modes.rma.wipe import ReturnedUnit
from station.records.store import RecordStore

CUSTOMER_PROMPT = "Type the customer's passphrase (bar above)"


class RmaInputs(QObject):
    _asked = Signal(object, str)  # ReturnedUnit and its devid ("" unknown), from a slot's worker thread

    def __init__(self, window: MainWindow, station_of: Callable[[], Station | None]) -> None:
        super().__init__(window)
        self.window = window
        self.station_of = station_of
        self.box = PassphraseBox(on_question=self._ask_from_worker)
        self.accept_unknown = False
        self._asked.connect(self._question)
        window.mode_bar.passphrase_given.connect(self._answered)
        window.mode_bar.accept_unknown_changed.connect(self._accept_unknown)

    def policy(self) -> RmaPolicy:
        unknown = "accept" if self.accept_unknown else "refuse"
        return RmaPolicy(unknown_unit=unknown, customer_passphrase=self.box)

    def reset(self) -> None:
        """Before a station opens: units without records are refused again until someone ticks the box."""
        self.window.mode_bar.accept_unknown.setChecked(False)
        self.accept_unknown = False

    def withdraw(self) -> None:
        self.box.withdraw()

    def close(self) -> None:
        self.box.close()

    def engine_event(self, event: Event) -> None:
        """A question that ended without an answer from the bar (timed out, withdrawn) leaves the bar."""
        asked = self.window.mode_bar.questions
        ended = isinstance(event, StepFinished | RunFinished) and event.slot in asked
        if ended and event.slot not in self.box.open_questions():
            self.window.mode_bar.drop(event.slot)

    def _accept_unknown(self, accept: bool) -> None:
        self.accept_unknown = accept
        station = self.station_of()
        if station is not None and station.mode == "rma":
            station.rma = self.policy()  # the flow reads the policy when each unit starts
        self.window.log_strip.note("RMA: units without records are " + ("accepted" if accept else "refused"))

    def _ask_from_worker(self, unit: ReturnedUnit) -> None:
        """In the slot's worker thread: find the unit's devid in its records (the operator knows a unit by
        devid and label; its devid stays behind the customer's login until the passphrase opens it)."""
        self._asked.emit(unit, devid_of(self.window.checker.store, unit.eid))

    def _question(self, unit: ReturnedUnit, devid: str) -> None:
        self.window.mode_bar.ask(unit, devid=devid, wait=self.box.wait)
        self._prompt(unit.slot, CUSTOMER_PROMPT)

    def _answered(self, slot: str, passphrase: str | None) -> None:
        if self.box.answer(slot, passphrase):
            self._prompt(slot, "")

    def _prompt(self, slot: str, text: str) -> None:
        model = self.window.models.get(slot)
        if model is not None:
            model.ask(text)
            self.window.redraw(slot)


def devid_of(store: RecordStore | None, eid: str) -> str:
    """The devid the station's records give the unit with instance ``eid`` ("" when none does)."""
    if store is None:
        return ""
    try:
        records = store.records_of_instance(eid)
    except StationError:  # the question is asked all the same, naming the unit by its label
        return ""
    return next((record.devid for record in reversed(records) if record.devid), "")
