"""The pipeline engine: named steps with timeouts and retries, a durable journal, events, one outcome.

>>> class NoJournal: journal = staticmethod(lambda run_id, step, phase, detail=None: None)
>>> def check(ctx): raise StepFailed("wrong-product", "not a PPA")
>>> plan = [Step("identify", lambda ctx: "PPA rev 2.2", retry=SAFE_RETRY), Step("check", check)]
>>> result = Engine(EventBus()).run(RunContext("run-1", "A1", "production", NoJournal()), plan)
>>> result.outcome, result.failure
(<Outcome.FAIL: 'fail'>, Failure(step='check', code='wrong-product', message='not a PPA'))
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from station.core.errors import (
    BackendError,
    BackendRefused,
    DeviceFailure,
    DeviceProtocolError,
    DeviceTimeout,
    DeviceUnreachable,
    StationError,
)
from station.core.events import EventBus, LogLine, Outcome, StepFinished, StepStarted, UnitIdentified
from station.devices.transport import call_deadline


class StepFailed(Exception):
    """An expected failure of the unit under test; ``code`` is short and stable, ``message`` plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Cancelled(Exception):
    """The run was cancelled (operator stop, shutdown); raised by ``RunContext.sleep`` and between steps."""


class StepTimeout(StationError):
    """A step's own deadline passed while it waited (polling a reboot, a firmware check)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try a step and which errors are worth another try (only I/O faults by default).

    ``malformed`` also retries a success status with a body that does not parse: a garbled read is
    worth another look, but only for steps that write nothing (a write may have happened).
    """

    attempts: int = 1
    backoff: float = 0.5
    retry_on: tuple[type[BaseException], ...] = (DeviceTimeout, DeviceUnreachable, DeviceFailure)
    malformed: bool = False

    def retries(self, exc: BaseException) -> bool:
        if isinstance(exc, self.retry_on):
            return True
        return self.malformed and _malformed(exc)


NO_RETRY = RetryPolicy()
SAFE_RETRY = RetryPolicy(attempts=3, malformed=True)


@dataclass(frozen=True)
class Step:
    """One named unit of work. ``action`` returns an optional detail line for the timeline."""

    name: str
    action: Callable[[RunContext], str | None]
    timeout: float = 30.0
    retry: RetryPolicy = NO_RETRY
    writes: bool = False


@dataclass(frozen=True)
class Group:
    """Steps retried together: a retryable fault in any of them restarts the group from its first step."""

    name: str
    steps: tuple[Step, ...]
    retry: RetryPolicy = SAFE_RETRY


class Journal(Protocol):
    """Where the engine makes progress durable (the record store's run journal)."""

    def journal(
        self, run_id: str, step: str, phase: str, detail: Mapping[str, Any] | None = None
    ) -> object: ...


@dataclass
class StepRecord:
    """The timeline entry of one step, as it goes into the record."""

    name: str
    outcome: Outcome
    started: datetime
    finished: datetime
    attempts: int
    detail: str


@dataclass(frozen=True)
class Failure:
    step: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "code": self.code, "message": self.message}


@dataclass
class RunResult:
    outcome: Outcome
    steps: list[StepRecord]
    failure: Failure | None


@dataclass
class RunContext:
    """What a step gets: identity of the run, cancellation, the journal, and a place for facts."""

    run_id: str
    slot: str
    mode: str
    journal: Journal
    cancel: threading.Event = field(default_factory=threading.Event)
    bus: EventBus = field(default_factory=EventBus)
    facts: dict[str, Any] = field(default_factory=dict)
    monotonic: Callable[[], float] = time.monotonic
    step: str = ""
    deadline: float = float("inf")
    timeout: float = float("inf")  # the current step's own limit, which set ``deadline``

    def remaining(self) -> float:
        return self.deadline - self.monotonic()

    def overdue(self, what: str = "no answer") -> StepTimeout:
        """The current step's end at its deadline; the failure names the step, the message the deadline."""
        return StepTimeout(f"{what} within its {self.timeout:g} s deadline")

    def sleep(self, seconds: float) -> None:
        """Wait cooperatively: Cancelled when cancelled, StepTimeout once the step's deadline passes."""
        if self.remaining() <= 0:
            raise self.overdue("not finished")
        if self.cancel.wait(min(seconds, max(self.remaining(), 0.0))):
            raise Cancelled
        if self.remaining() <= 0:
            raise self.overdue("not finished")

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled

    def intent(self, detail: dict[str, Any]) -> None:
        """Journal, durably, what the current step is about to write to the unit."""
        self.journal.journal(self.run_id, self.step, "intent", detail)

    def identified(self, unit_id: str) -> None:
        """Tell subscribers which unit this run is about, as soon as a step learns it."""
        self.bus.publish(UnitIdentified(self.slot, time.time(), self.run_id, unit_id))

    def log(self, message: str, level: str = "info") -> None:
        self.bus.publish(LogLine(self.slot, time.time(), self.run_id, level, message))


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Exhausted(Exception):
    """Internal: a retryable fault outlived the step's own retries (a group may try again)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Engine:
    """Runs a plan of steps and groups for one unit and reports each transition on the bus."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def run(self, ctx: RunContext, plan: Sequence[Step | Group]) -> RunResult:
        records: list[StepRecord] = []
        failure: Failure | None = None
        outcome = Outcome.PASS
        for item in plan:
            try:
                ctx.check_cancel()
                if isinstance(item, Group):
                    self._run_group(ctx, item, records)
                else:
                    self._run_step(ctx, item, records)
            except Exception as exc:
                outcome, failure = self._classify(ctx, records, exc)
                break
        return RunResult(outcome, records, failure)

    def _run_group(self, ctx: RunContext, group: Group, records: list[StepRecord]) -> None:
        for attempt in range(1, group.retry.attempts + 1):
            try:
                for step in group.steps:
                    self._run_step(ctx, step, records)
                return
            except _Exhausted as exc:
                if attempt == group.retry.attempts or not group.retry.retries(exc.cause):
                    raise
                again = f"({attempt + 1}/{group.retry.attempts})"
                ctx.log(f"{group.name}: {exc.cause}; trying the group again {again}")
                if ctx.cancel.wait(group.retry.backoff * attempt):  # between steps: no step's deadline
                    raise Cancelled from None

    def _run_step(self, ctx: RunContext, step: Step, records: list[StepRecord]) -> None:
        """Attempts of ``step`` until one succeeds, a fault is final, the station stops or time is up.

        Every attempt runs inside ``call_deadline``: the requests it makes (to the unit, the backend)
        end by the step's deadline whatever the other end does, and a backoff that would outlast the
        deadline is not started. A fault while the station stops is the stop (Cancelled), never a
        failure of the unit; an I/O fault at the deadline is the deadline (StepTimeout).
        """
        ctx.step = step.name
        ctx.journal.journal(ctx.run_id, step.name, "start", {})
        started_wall, started = utc_now(), ctx.monotonic()
        ctx.deadline, ctx.timeout = started + step.timeout, step.timeout
        begun = (started_wall, started)
        attempt = 0
        while True:
            attempt += 1
            self.bus.publish(StepStarted(ctx.slot, time.time(), ctx.run_id, step.name, attempt))
            try:
                with call_deadline(ctx.deadline):
                    detail = step.action(ctx) or ""
                break
            except Exception as caught:
                exc = _ended_by(ctx, caught)
                again = exc is caught and step.retry.retries(exc) and attempt < step.retry.attempts
                if again and ctx.remaining() <= step.retry.backoff * attempt:
                    exc, again = ctx.overdue(), False  # no time left for another attempt
                if not again:
                    self._finish(ctx, step, records, started=begun, attempts=attempt, exc=exc)
                    if isinstance(exc, DeviceTimeout | DeviceUnreachable | DeviceFailure):
                        raise _Exhausted(exc) from exc
                    if exc is caught:
                        raise
                    raise exc from caught
                ctx.log(f"{step.name}: {exc}; retrying ({attempt + 1}/{step.retry.attempts})", "warning")
                try:
                    ctx.sleep(step.retry.backoff * attempt)
                except (Cancelled, StepTimeout) as stopped:  # during the backoff: still this step's end
                    self._finish(ctx, step, records, started=begun, attempts=attempt, exc=stopped)
                    raise
        self._finish(ctx, step, records, started=begun, attempts=attempt, detail=detail)

    def _finish(
        self,
        ctx: RunContext,
        step: Step,
        records: list[StepRecord],
        *,
        started: tuple[datetime, float],
        attempts: int,
        exc: BaseException | None = None,
        detail: str = "",
    ) -> None:
        outcome = Outcome.PASS if exc is None else _outcome_of(exc)
        message = detail if exc is None else _message_of(exc)
        seconds = ctx.monotonic() - started[1]
        records.append(StepRecord(step.name, outcome, started[0], utc_now(), attempts, message))
        ctx.journal.journal(ctx.run_id, step.name, "end", {"outcome": str(outcome)})
        self.bus.publish(
            StepFinished(ctx.slot, time.time(), ctx.run_id, step.name, outcome, attempts, seconds, message)
        )

    def _classify(
        self, ctx: RunContext, records: list[StepRecord], exc: Exception
    ) -> tuple[Outcome, Failure]:
        cause = exc.cause if isinstance(exc, _Exhausted) else exc
        step = records[-1].name if records else ctx.step or "start"
        outcome = _outcome_of(cause)
        if outcome is Outcome.ERROR and not isinstance(cause, StationError | StepFailed):
            ctx.log(f"internal error in {step}: {traceback.format_exception(cause)[-1].strip()}", "error")
        return outcome, Failure(step, _code_of(cause), _message_of(cause))


# A transport fault at the step's deadline: how ``call_deadline`` ends a request (a backend's own
# error type included; its refusals are answers, not faults).
_CUT_SHORT = (DeviceTimeout, DeviceUnreachable, BackendError)
DEADLINE_SLACK = 0.05  # seconds: socket timers round, so a request cut at the deadline may end a hair early


def _ended_by(ctx: RunContext, exc: Exception) -> Exception:
    """What ended an attempt: the stop when the station is stopping, the deadline when it has passed."""
    if isinstance(exc, Cancelled | StepTimeout):
        return exc
    if ctx.cancel.is_set():  # a request aborted by the stop, or whatever the step made of it
        return Cancelled()
    overdue = ctx.remaining() <= DEADLINE_SLACK
    if overdue and isinstance(exc, _CUT_SHORT) and not isinstance(exc, BackendRefused):
        return ctx.overdue()
    return exc


def _malformed(exc: BaseException) -> bool:
    """A success status whose body does not parse (the client reports it with the 2xx status)."""
    return isinstance(exc, DeviceProtocolError) and exc.status is not None and exc.status < 300


def _outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, Cancelled):
        return Outcome.ABORTED
    if isinstance(exc, StepFailed | BackendRefused):
        return Outcome.FAIL
    if isinstance(exc, DeviceProtocolError) and not isinstance(exc, DeviceFailure):
        return Outcome.FAIL
    return Outcome.ERROR


def _code_of(exc: BaseException) -> str:
    if isinstance(exc, StepFailed):
        return exc.code
    if isinstance(exc, Cancelled):
        return "cancelled"
    if isinstance(exc, DeviceTimeout | StepTimeout):
        return "timeout"
    if isinstance(exc, DeviceUnreachable):
        return "unreachable"
    if isinstance(exc, DeviceProtocolError):
        return "bad-reply" if _malformed(exc) or not exc.status else f"http-{exc.status}"
    if isinstance(exc, BackendRefused):
        return "backend-refused"
    if isinstance(exc, StationError):
        return type(exc).__name__
    return "internal"


def _message_of(exc: BaseException) -> str:
    if isinstance(exc, Cancelled):
        return "stopped by the operator or the station"
    if isinstance(exc, StationError | StepFailed):
        return str(exc)
    return f"internal error ({type(exc).__name__}); see the station log"
