"""The production flow under faults: dropped connections, 500s, garbage, slow replies, unplugs, a stop.

A fault rule on the unit's injector aims at one endpoint (and with ``times`` at one request), so each case
hits exactly the step it names. Read steps retry (the unit still passes, the record shows the attempts);
write steps do not (a write may have happened), and exhausted retries end the unit with a message that
names the step and the cause. Afterwards the unit's real state is read back over HTTP: nothing a failed
run did not announce may have been written.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from station.core.events import Event, LogLine, Outcome, RunFinished, RunStarted
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import (
    ATTESTATION,
    AUTH_INIT,
    CHECKIN,
    LOGGER_KEY,
    PROVISIONING,
    STATUS,
    STEPS,
    VERSION,
    LineFactory,
    failure_of,
    step_of,
)

# Retries pause 10 ms (tests/pipeline/conftest.py): every attempt is still made and counted.
pytestmark = pytest.mark.usefixtures("quick_retries")

CLIENT_TIMEOUT = 1.0  # seconds; short so a "delay" fault past it costs little wall time
LATE = CLIENT_TIMEOUT + 0.5


@dataclass(frozen=True)
class OneFault:
    """A single fault on a read endpoint and the step that must absorb it with a second attempt."""

    kind: str
    path: str
    step: str
    skip: int = 0
    seconds: float = 0.0


ONE_FAULT = [
    # skip=2: the slot's presence probe, then its look for a unit that passed before (personalised?),
    # read the status once each before identify does
    OneFault("drop", STATUS, "identify", skip=2),
    OneFault("500", VERSION, "identify"),
    OneFault("drop", CHECKIN, "check-in"),
    OneFault("500", ATTESTATION, "attest"),
    OneFault("delay", ATTESTATION, "attest", seconds=LATE),
    OneFault("garbage", ATTESTATION, "attest"),
    OneFault("garbage", LOGGER_KEY, "verify"),
    OneFault("delay", LOGGER_KEY, "verify", seconds=LATE),
]


@pytest.mark.parametrize("fault", ONE_FAULT, ids=lambda f: f"{f.kind}-{f.step}-{f.path.rsplit('/', 1)[-1]}")
def test_a_single_fault_on_a_read_is_retried_and_the_unit_passes(
    line_factory: LineFactory, fault: OneFault
) -> None:
    line = line_factory(client_timeout=CLIENT_TIMEOUT)
    line.unit().faults.add(
        FaultRule(fault.kind, path=fault.path, method="GET", times=1, skip=fault.skip, seconds=fault.seconds)
    )
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert step_of(verdict, fault.step)["attempts"] == 2
    others = [s for s in verdict.record.payload["steps"] if s["name"] != fault.step]
    assert all(s["attempts"] == 1 for s in others)
    assert [s["name"] for s in verdict.record.payload["steps"]] == list(STEPS)
    assert line.verify().ok


def test_a_500_on_every_attestation_errors_at_attest_after_three_attempts(line_factory: LineFactory) -> None:
    line = line_factory()
    line.unit().faults.add(FaultRule("500", path=ATTESTATION))
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.ERROR
    assert (step, code) == ("attest", "http-500")
    assert "GET /api/system/config/attestation" in message
    assert "500" in message
    assert step_of(verdict, "attest")["attempts"] == 3
    line.unit().faults.clear()
    assert "csr" in line.attestation()  # nothing was written to the secure element


def test_garbage_on_every_logger_key_read_fails_verify_as_a_bad_reply(line_factory: LineFactory) -> None:
    line = line_factory()
    line.unit().faults.add(FaultRule("garbage", path=LOGGER_KEY))
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("verify", "bad-reply")
    assert "GET /api/logger/key" in message
    assert "not JSON" in message
    assert step_of(verdict, "verify")["attempts"] == 3


def test_a_unit_unplugged_during_attestation_is_unreachable(line_factory: LineFactory) -> None:
    line = line_factory()
    unit = line.unit()
    unit.faults.add(FaultRule("unplug", path=ATTESTATION, times=1))
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.ERROR
    assert (step, code) == ("attest", "unreachable")
    assert "GET /api/system/config/attestation" in message
    assert step_of(verdict, "attest")["attempts"] == 3
    assert not line.station.fixtures[0].presence.present()
    unit.replug(new_unit=False)  # the operator plugs the same unit back in: it is still blank
    assert "csr" in line.attestation()
    assert "inited" in line.status()


@pytest.mark.parametrize(
    ("kind", "path", "step", "code"),
    [
        ("500", PROVISIONING, "provision", "http-500"),
        ("drop", PROVISIONING, "provision", "unreachable"),
        ("drop", AUTH_INIT, "personalize", "unreachable"),
    ],
)
def test_a_fault_on_a_write_is_not_retried(
    line_factory: LineFactory, kind: str, path: str, step: str, code: str
) -> None:
    line = line_factory()
    line.unit().faults.add(FaultRule(kind, path=path, method="POST", times=1))
    (verdict,) = line.run()

    failed_step, failed_code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.ERROR
    assert (failed_step, failed_code) == (step, code)
    assert f"POST {path}" in message
    assert step_of(verdict, step)["attempts"] == 1
    journal = line.station.store.run_journal(verdict.run_id)
    assert [e.step for e in journal if e.phase == "intent"][-1] == step  # announced before the write
    if step == "provision":
        assert "csr" in line.attestation()  # the fault struck before the unit stored anything
    else:
        assert "crt" in line.attestation()  # provisioned, but not personalised
        assert "inited" in line.status()


def test_stop_during_a_step_aborts_the_unit_with_a_record(line_factory: LineFactory) -> None:
    line = line_factory()
    line.unit().faults.add(FaultRule("500", path=ATTESTATION))

    def stop_on_retry(event: Event) -> None:
        if isinstance(event, LogLine) and event.message.startswith("attest:") and "retrying" in event.message:
            line.station.stop()  # the operator presses stop while attest waits to try again

    line.station.bus.subscribe(stop_on_retry)
    verdicts = line.station.run(units=1)

    (verdict,) = verdicts
    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.ABORTED
    assert (step, code) == ("attest", "cancelled")
    assert "stopped" in message
    assert verdict.record.payload["outcome"] == "aborted"
    assert step_of(verdict, "attest")["outcome"] == "aborted"
    assert len(line.records()) == 1
    assert line.station.store.open_runs() == []
    line.unit().faults.clear()
    assert "csr" in line.attestation()


def test_faulty_units_among_good_ones_each_get_one_record(line_factory: LineFactory) -> None:
    line = line_factory(fixtures=2)
    line.unit(0).faults.add(FaultRule("500", path=ATTESTATION, times=3))  # A1's first unit: error
    line.unit(1).faults.add(FaultRule("drop", path=AUTH_INIT, method="POST", times=1))  # A2's first
    events: list[Event] = []
    line.station.bus.subscribe(events.append)
    verdicts = line.run(units=6)

    outcomes = sorted(str(v.outcome) for v in verdicts)
    assert outcomes == ["error", "error", "pass", "pass", "pass", "pass"]
    records = line.records()
    assert len(records) == len(verdicts)
    assert {r.record_id for r in records} == {v.record.record_id for v in verdicts}
    started = [e.run_id for e in events if isinstance(e, RunStarted)]
    finished = {e.run_id: e.record_id for e in events if isinstance(e, RunFinished)}
    assert sorted(started) == sorted(finished) == sorted(v.run_id for v in verdicts)
    assert {finished[v.run_id] for v in verdicts} == {r.record_id for r in records}
    assert line.station.store.open_runs() == []
    passing = [v for v in verdicts if v.outcome is Outcome.PASS]
    for verdict in passing:
        entry = line.station.store.find_production(devid=verdict.record.devid)
        assert entry is not None
        assert entry.record_id == verdict.record.record_id
    report = line.verify()
    assert report.ok, report
