"""What the operator gives the RMA flow through the window: customer passphrases and the unknown-unit choice.

Example::

    inputs = RmaInputs(window, station_of=host_station)    # host_station() -> the running Station or None
    target = Target("rma", operator, inputs.policy())      # the policy a station is opened with
    bridge.engine_event.connect(inputs.engine_event)        # questions that ended elsewhere leave the bar
    inputs.withdraw()                                       # a mode switch or logout ends open questions

The RMA flow asks for a personalised unit's customer passphrase from its slot's worker thread
(``PassphraseBox``); the question reaches the window as a queued signal, the slot's tile turns to
ATTENTION ("Type the customer's passphrase") and the mode bar shows a masked field. The answer goes back
to the box and the field is emptied. "Accept unknown units" changes the policy of the running station,
which the flow reads when each unit starts, so it applies from the next unit on; it is off again each
time a station opens (a decision for one RMA session, recorded in each record it affects).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from station.app.station import Station
from station.core.events import Event, RunFinished, StepFinished
from station.gui.model.passphrases import PassphraseBox
from station.gui.widgets.window import MainWindow
from station.pipeline.modes.rma.flow import RmaPolicy
from station.pipeline.modes.rma.wipe import ReturnedUnit

CUSTOMER_PROMPT = "Type the customer's passphrase (bar above)"


class RmaInputs(QObject):
    _asked = Signal(object)  # ReturnedUnit, emitted from a slot's worker thread (the passphrase box)

    def __init__(self, window: MainWindow, station_of: Callable[[], Station | None]) -> None:
        super().__init__(window)
        self.window = window
        self.station_of = station_of
        self.box = PassphraseBox(on_question=self._asked.emit)
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

    def _question(self, unit: ReturnedUnit) -> None:
        self.window.mode_bar.ask(unit)
        self._prompt(unit.slot, CUSTOMER_PROMPT)

    def _answered(self, slot: str, passphrase: str | None) -> None:
        if self.box.answer(slot, passphrase):
            self._prompt(slot, "")

    def _prompt(self, slot: str, text: str) -> None:
        model = self.window.models.get(slot)
        if model is not None:
            model.ask(text)
            self.window.redraw(slot)
