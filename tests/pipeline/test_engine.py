"""The engine's rules: outcomes, retries, groups, journal order, events, cancellation, deadlines."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from station.core.errors import DeviceFailure, DeviceRefused, DeviceTimeout, DeviceUnreachable, RecordError
from station.core.events import Event, EventBus, Outcome, StepFinished, StepStarted
from station.pipeline.engine import (
    Engine,
    Group,
    RetryPolicy,
    RunContext,
    Step,
    StepFailed,
)

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.0)


class ListJournal:
    """The journal protocol kept in memory, in call order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, Any]]] = []

    def journal(self, run_id: str, step: str, phase: str, detail: Mapping[str, Any] | None = None) -> None:
        self.entries.append((step, phase, dict(detail or {})))


class Flaky:
    """A step action that raises the given errors in order, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, ctx: RunContext) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return f"ok after {self.calls}"


def run(
    plan: list[Step | Group], cancel: threading.Event | None = None
) -> tuple[Any, ListJournal, list[Event]]:
    bus, journal = EventBus(), ListJournal()
    events: list[Event] = []
    bus.subscribe(events.append)
    ctx = RunContext("run-1", "A1", "production", journal, cancel or threading.Event(), bus)
    return Engine(bus).run(ctx, plan), journal, events


def test_all_steps_pass_in_order_with_journal_and_events() -> None:
    result, journal, events = run([Step("a", lambda ctx: "did a"), Step("b", lambda ctx: None)])
    assert result.outcome is Outcome.PASS
    assert [(s.name, s.outcome, s.detail) for s in result.steps] == [
        ("a", "pass", "did a"),
        ("b", "pass", ""),
    ]
    assert [(step, phase) for step, phase, _ in journal.entries] == [
        ("a", "start"),
        ("a", "end"),
        ("b", "start"),
        ("b", "end"),
    ]
    kinds = [type(e).__name__ for e in events if isinstance(e, StepStarted | StepFinished)]
    assert kinds == ["StepStarted", "StepFinished", "StepStarted", "StepFinished"]


def test_expected_failure_is_fail_with_code_and_stops_the_run() -> None:
    def refuse(ctx: RunContext) -> str:
        raise StepFailed("wrong-config", "unit reports hostname x, profile says y")

    later = Flaky()
    result, _, _ = run([Step("verify", refuse), Step("record", later)])
    assert result.outcome is Outcome.FAIL
    assert result.failure is not None
    assert result.failure.as_dict() == {
        "step": "verify",
        "code": "wrong-config",
        "message": "unit reports hostname x, profile says y",
    }
    assert later.calls == 0


def test_io_faults_are_retried_then_pass() -> None:
    action = Flaky(DeviceTimeout("t"), DeviceUnreachable("u"))
    result, _, events = run([Step("identify", action, retry=FAST_RETRY)])
    assert result.outcome is Outcome.PASS
    assert result.steps[0].attempts == 3
    assert [e.attempt for e in events if isinstance(e, StepStarted)] == [1, 2, 3]


def test_exhausted_retries_are_an_error_naming_step_and_cause() -> None:
    action = Flaky(*[DeviceUnreachable("GET /api/system/status: connection dropped")] * 3)
    result, _, _ = run([Step("identify", action, retry=FAST_RETRY)])
    assert result.outcome is Outcome.ERROR
    assert result.failure is not None
    assert result.failure.step == "identify"
    assert result.failure.code == "unreachable"
    assert "connection dropped" in result.failure.message


def test_refusals_are_not_retried_and_fail() -> None:
    action = Flaky(DeviceRefused("refused with 406", status=406, endpoint="/api/system/config/provisioning"))
    result, _, _ = run([Step("provision", action, retry=FAST_RETRY)])
    assert action.calls == 1
    assert result.outcome is Outcome.FAIL
    assert result.failure is not None and result.failure.code == "http-406"


def test_group_restarts_from_its_first_step() -> None:
    first, second = Flaky(), Flaky(DeviceFailure("500", status=500), DeviceFailure("500", status=500))
    group = Group("reboot+checkin", (Step("reboot", first), Step("checkin", second)), retry=FAST_RETRY)
    result, _, _ = run([group])
    assert result.outcome is Outcome.PASS
    assert first.calls == 3  # the group restarted twice
    assert second.calls == 3
    assert [s.outcome for s in result.steps] == ["pass", "error", "pass", "error", "pass", "pass"]


def test_internal_bug_is_an_error_without_details_for_the_operator() -> None:
    def bug(ctx: RunContext) -> str:
        raise KeyError("secret-looking-detail")

    result, _, _ = run([Step("attest", bug)])
    assert result.outcome is Outcome.ERROR
    assert result.failure is not None
    assert result.failure.code == "internal"
    assert "secret-looking-detail" not in result.failure.message
    assert "KeyError" in result.failure.message


def test_station_errors_are_errors_with_their_type() -> None:
    def store_down(ctx: RunContext) -> str:
        raise RecordError("records database is locked")

    result, _, _ = run([Step("record", store_down)])
    assert result.outcome is Outcome.ERROR
    assert result.failure is not None and result.failure.code == "RecordError"


def test_cancel_between_steps_aborts() -> None:
    cancel = threading.Event()

    def stop(ctx: RunContext) -> str:
        cancel.set()
        return "asked to stop"

    later = Flaky()
    result, _, _ = run([Step("a", stop), Step("b", later)], cancel)
    assert result.outcome is Outcome.ABORTED
    assert later.calls == 0


def test_cancel_interrupts_a_waiting_step() -> None:
    cancel = threading.Event()

    def wait(ctx: RunContext) -> str:
        cancel.set()  # as the operator pressing stop while the step waits
        ctx.sleep(3600)
        return "never"

    result, _, _ = run([Step("reboot-wait", wait)], cancel)
    assert result.outcome is Outcome.ABORTED
    assert result.failure is not None and result.failure.step == "reboot-wait"


def test_step_deadline_stops_polling() -> None:
    def poll(ctx: RunContext) -> str:
        while True:
            ctx.sleep(0.001)

    result, _, _ = run([Step("firmware-check", poll, timeout=0.01)])
    assert result.outcome is Outcome.ERROR
    assert result.failure is not None and result.failure.code == "timeout"


def test_intent_is_journalled_between_start_and_end() -> None:
    def write(ctx: RunContext) -> str:
        ctx.intent({"crt_sha256": "ab" * 32})
        return "written"

    _, journal, _ = run([Step("provision", write, writes=True)])
    assert journal.entries == [
        ("provision", "start", {}),
        ("provision", "intent", {"crt_sha256": "ab" * 32}),
        ("provision", "end", {"outcome": "pass"}),
    ]


def test_a_failing_subscriber_does_not_break_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    bus, journal = EventBus(), ListJournal()

    def broken(event: Event) -> None:
        raise RuntimeError("display gone")

    bus.subscribe(broken)
    result = Engine(bus).run(
        RunContext("r", "A1", "production", journal, bus=bus), [Step("a", lambda c: None)]
    )
    assert result.outcome is Outcome.PASS
    assert capsys.readouterr().err.count("display gone") == 1
