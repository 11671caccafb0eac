"""A step ends at its deadline whatever the unit does: silent, dripping, or answering only after it.

The unit is a real socket (``tests/quietunit.py``) reached by the real PPA client; the times are measured
with generous bounds (what matters is that the step's deadline, not the client's per-read timeout or a
drip, decides when the step ends).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from station.core.errors import BackendError
from station.core.events import EventBus, Outcome
from station.devices.ppa.client import PpaClient
from station.devices.transport import call_deadline
from station.pipeline.engine import SAFE_RETRY, Engine, RetryPolicy, RunContext, Step
from tests.pipeline.test_engine import ListJournal
from tests.quietunit import QuietUnit

DEADLINE = 2.0
SLACK = 1.5  # seconds past the deadline a step may take to end (scheduling on a busy machine)
VERSION = "GET /api/system/version"


def run_step(step: Step, cancel: threading.Event | None = None) -> tuple[Any, float]:
    ctx = RunContext("run-1", "N1", "production", ListJournal(), cancel or threading.Event(), EventBus())
    started = time.monotonic()
    result = Engine(ctx.bus).run(ctx, [step])
    return result, time.monotonic() - started


def identify_on(url: str, client_timeout: float = 10.0) -> Step:
    client = PpaClient.at(url, timeout=client_timeout)
    return Step("identify", lambda ctx: client.version().hwv, timeout=DEADLINE, retry=SAFE_RETRY)


@pytest.mark.parametrize("mode", ["silent", "drip"])
def test_a_unit_that_never_answers_ends_identify_at_its_deadline(mode: str) -> None:
    with QuietUnit(None, VERSION, mode=mode, drip_every=0.2) as unit:
        result, seconds = run_step(identify_on(unit.url))

    assert DEADLINE - 0.1 <= seconds < DEADLINE + SLACK, seconds  # not the client's 10 s, nor forever
    assert result.outcome is Outcome.ERROR
    assert result.failure.as_dict() == {
        "step": "identify",
        "code": "timeout",
        "message": "no answer within its 2 s deadline",
    }


def test_retries_stop_at_the_deadline() -> None:
    """A client timeout shorter than the deadline: retried, but no attempt outlives the deadline."""
    with QuietUnit(None, VERSION) as unit:
        result, seconds = run_step(identify_on(unit.url, client_timeout=0.8))
        attempts = len(unit.seen)

    assert seconds < DEADLINE + SLACK, seconds
    assert attempts >= 2  # 0.8 s, backoff 0.5 s, then the rest of the deadline
    assert result.failure is not None and result.failure.message == "no answer within its 2 s deadline"


def test_a_backoff_that_would_outlast_the_deadline_is_not_started() -> None:
    calls: list[float] = []

    def refused(ctx: RunContext) -> str:
        calls.append(time.monotonic())
        raise BackendError("backend down")  # a retryable-looking fault

    slow_retry = RetryPolicy(attempts=5, backoff=10.0, retry_on=(BackendError,))
    result, seconds = run_step(Step("check-in", refused, timeout=DEADLINE, retry=slow_retry))

    assert len(calls) == 1 and seconds < 1.0  # no 10 s sleep against a 2 s deadline
    assert result.failure is not None
    assert (result.failure.code, result.failure.message) == ("timeout", "no answer within its 2 s deadline")


def test_the_deadline_nests_inside_a_longer_one() -> None:
    """The engine's deadline is the earliest: an outer, longer one (a caller's) does not extend it."""
    with QuietUnit(None, VERSION) as unit, call_deadline(time.monotonic() + 60):
        result, seconds = run_step(identify_on(unit.url))
    assert seconds < DEADLINE + SLACK
    assert result.outcome is Outcome.ERROR


def test_a_stop_during_a_silent_request_is_an_abort_not_a_failure() -> None:
    cancel = threading.Event()
    with QuietUnit(None, VERSION) as unit:
        step = identify_on(unit.url)
        step = Step("identify", step.action, timeout=60, retry=SAFE_RETRY)
        threading.Timer(0.5, cancel.set).start()
        threading.Timer(0.5, _abort).start()
        result, seconds = run_step(step, cancel)

    assert seconds < 0.5 + SLACK, seconds
    assert result.outcome is Outcome.ABORTED
    assert result.failure is not None and result.failure.code == "cancelled"


def _abort() -> None:
    from station.devices.transport import abort_all

    abort_all("test stop")


def test_a_silent_backend_ends_the_step_at_its_deadline() -> None:
    """Backend calls made in a step are bounded by the step's deadline as unit calls are."""
    from station.factory.remote import RemoteBackend

    with QuietUnit(None, "POST /checkin") as backend_host:
        backend = RemoteBackend(backend_host.url, timeout=10)
        step = Step("check-in", lambda ctx: backend.checkin("AAAA"), timeout=DEADLINE, retry=SAFE_RETRY)
        result, seconds = run_step(step)

    assert seconds < DEADLINE + SLACK, seconds
    assert result.failure is not None
    assert (result.failure.step, result.failure.code) == ("check-in", "timeout")
