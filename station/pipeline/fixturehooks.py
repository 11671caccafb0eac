"""What a slot worker does with its fixture's hardware: the lamp, the power switch, a unit that left.

>>> lost = Failure("reboot", "timeout", "no answer in 60 s")
>>> power_cycle_helps(lost)                      # a hung unit may recover: its power is cycled once
True
>>> print(left_the_slot(lost, "A1").message)     # said when the slot is empty: pulled, not broken
the unit was removed from slot A1 during reboot (no answer in 60 s); it is unfinished: ...
"""

from __future__ import annotations

import time
from collections.abc import Callable

from station.core.events import Event, RunStarted, SlotChanged, SlotState
from station.fixtures.base import PresenceTrouble
from station.pipeline.engine import Failure

POWER_CYCLE_WAIT = 60.0  # seconds a power-cycled unit has to answer again before its run ends as it was
TRANSPORT_CODES = ("unreachable", "timeout")
FAULT_GRACE = 5.0  # seconds a trouble lasts before the slot is shown faulty (a booting unit has some)

_LAMP = {SlotState.DONE: "green", SlotState.FAILED: "red", SlotState.EMPTY: "off"}


def lamp_colour(event: Event) -> str | None:
    """The slot lamp for an event: yellow while a unit is worked on, green/red verdict, off when empty."""
    if isinstance(event, RunStarted):
        return "yellow"
    if isinstance(event, SlotChanged):
        return _LAMP.get(event.state)
    return None


def power_cycle_helps(failure: Failure | None) -> bool:
    """A unit that stopped answering (a reboot that never came back, a hung firmware) may recover."""
    return failure is not None and failure.code == "timeout"


def left_the_slot(failure: Failure | None, slot: str) -> Failure | None:
    """For a run that lost its unit and the unit is no longer present: the same failure, said plainly.

    The code stays (``unreachable``/``timeout``: what the station observed); the message says that the
    unit was removed during the step, so the operator knows it is unfinished, not broken.
    """
    if failure is None or failure.code not in TRANSPORT_CODES:
        return None
    return Failure(
        failure.step,
        failure.code,
        f"the unit was removed from slot {slot} during {failure.step} ({failure.message}); it is "
        "unfinished: plug it in again to give it a new run, or set it aside for QA",
    )


class TroubleNotice:
    """Why a slot's presence check cannot reach its unit, said once per change of cause (a refused
    connection, a TLS failure, a timeout), so a slot that stays empty is not a silent mystery.

    ``on_fault`` hears the slot's health: the trouble once it has lasted ``grace`` seconds (the window shows
    the slot as not responding), None once it is over.
    """

    def __init__(
        self, on_fault: Callable[[str | None], None] | None = None, grace: float = FAULT_GRACE
    ) -> None:
        self._last: str | None = None
        self._on_fault = on_fault
        self._grace = grace
        self._since: float | None = None
        self._faulted = False

    def line(self, presence: object) -> str | None:
        """The log line to show after a presence check, or None (no trouble, or the same as before)."""
        trouble = presence.trouble() if isinstance(presence, PresenceTrouble) else None
        self._health(trouble)
        if trouble == self._last:
            return None
        self._last = trouble
        return None if trouble is None else f"slot not responding: {trouble}"

    def _health(self, trouble: str | None) -> None:
        if self._on_fault is None:
            return
        if trouble is None:
            self._since = None
            if self._faulted:
                self._faulted = False
                self._on_fault(None)
            return
        now = time.monotonic()
        self._since = now if self._since is None else self._since
        if not self._faulted and now - self._since >= self._grace:
            self._faulted = True
            self._on_fault(trouble)
