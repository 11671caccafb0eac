"""Events the engine emits, and the bus that delivers them to subscribers (console, GUI bridge, tests).

>>> bus = EventBus()
>>> bus.subscribe(lambda event: print(event.slot, event.step, event.attempt))
>>> bus.publish(StepStarted(slot="A1", at=0.0, run_id="run-1", step="attest", attempt=1))   # synchronous
A1 attest 1
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

ALREADY_PASSED = "already passed — remove unit (no new record)"
LABEL_NOT_PRINTED = "label not printed"  # how a label hook's slot-log line starts when the print failed


class Outcome(StrEnum):
    """The verdict of a step or a run (docs/records.md)."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    ERROR = "error"
    ABORTED = "aborted"


class SlotState(StrEnum):
    """A fixture slot's lifecycle as the operator sees it."""

    EMPTY = "empty"
    PRESENT = "present"
    BUSY = "busy"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    slot: str
    at: float


@dataclass(frozen=True)
class SlotChanged(Event):
    state: SlotState
    message: str = ""


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    mode: str
    steps: tuple[str, ...]
    resumed: bool = False


@dataclass(frozen=True)
class UnitIdentified(Event):
    run_id: str
    unit_id: str


@dataclass(frozen=True)
class StepStarted(Event):
    run_id: str
    step: str
    attempt: int


@dataclass(frozen=True)
class StepFinished(Event):
    run_id: str
    step: str
    outcome: Outcome
    attempts: int
    seconds: float
    message: str = ""


@dataclass(frozen=True)
class RunFinished(Event):
    run_id: str
    outcome: Outcome
    unit_id: str | None
    record_id: str | None
    failed_step: str | None = None
    message: str = ""
    failure_code: str | None = None  # the failure's code (``timeout``, ``unreachable``...): what to say


class FaultKind(StrEnum):
    """What went wrong outside the unit: each asks the operator for something else."""

    STATION = "station"  # the station could not finish the unit (records disk full, a bug)
    INTERRUPTED = "interrupted"  # stopped after writing to the unit: it stays in, resumed at the next start
    SLOT = "slot"  # the fixture cannot sense or reach units (probe failing, interface or hub gone)
    LABEL = "label"  # the unit passed, its label did not print


@dataclass(frozen=True)
class Fault(Event):
    """A fault of the station, the slot's fixture or the printer, for the window to show as a state of its
    own (never a stale RUNNING or a plain EMPTY). ``cleared``: the fault is over (the fixture answers again,
    a label printed). ``message`` is the technical cause, for the panel and the log, not for the tile."""

    kind: FaultKind
    message: str = ""
    run_id: str | None = None
    cleared: bool = False


@dataclass(frozen=True)
class LineSynced(Event):
    """The line database sync's state after a pass: reached or not, and how many records wait locally."""

    reached: bool
    pending: int = 0
    message: str = ""


@dataclass(frozen=True)
class AlreadyPassed(Event):
    """The slot holds a unit this line already passed and that is unchanged since: PASS again, no run.

    Not a ``RunFinished``: nothing was run or recorded (no new verdict to count); ``record_id`` is the
    unit's passing record, found again.
    """

    unit_id: str | None
    record_id: str
    message: str = ALREADY_PASSED


@dataclass(frozen=True)
class LogLine(Event):
    run_id: str | None
    level: str
    message: str


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out of events to subscribers; thread-safe subscribe/unsubscribe."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._reported: set[int] = set()

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception as exc:  # a broken display must not break provisioning
                self._report(subscriber, exc)

    def _report(self, subscriber: Subscriber, exc: Exception) -> None:
        if id(subscriber) not in self._reported:
            self._reported.add(id(subscriber))
            print(f"station: event subscriber {subscriber!r} failed: {exc!r}", file=sys.stderr)
