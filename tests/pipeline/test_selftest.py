"""The final check ends with the unit's own self-test: ``kat_busy`` waited out, the result recorded, and
a failed self-test, a latched ``fls_state`` or an unhealthy secure element fails the unit ``selftest``."""

from __future__ import annotations

import pytest

from station.core.events import Outcome
from station.pipeline import selftest
from station.sim.ppa import selftest as sim_selftest
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import LineFactory, failure_of, step_of

SELFTEST = ("GET", "/api/system/selftest")


def test_a_passing_unit_waited_for_its_kat_and_its_record_says_so(line_factory: LineFactory) -> None:
    line = line_factory()
    unit = line.unit()
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert list(unit.requests_seen).count(SELFTEST) >= 2  # kat_busy first, then the verdict
    recorded = step_of(verdict, "verify")["detail"]["selftest"]
    assert recorded["passed"] is True
    assert (recorded["fls_state"], recorded["se_state"]) == (0, 0)
    assert line.verify().ok


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("kat_fail", "fail state 0x01 (self-test (KAT) failure)"),
        ("entropy_fail", "fail state 0x02 (entropy failure)"),
        ("se_fault", "its secure element reports state 1 (healthy is 0)"),
    ],
)
def test_a_failed_self_test_fails_the_unit_before_any_pass(
    line_factory: LineFactory, kind: str, words: str
) -> None:
    line = line_factory()
    line.unit().faults.add(FaultRule(kind))
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.FAIL
    step, code, message = failure_of(verdict)
    assert (step, code) == ("verify", "selftest")
    assert message == f"the unit's own self-test failed: {words}; set the unit aside for QA"
    recorded = step_of(verdict, "verify")["detail"]["selftest"]
    assert recorded["passed"] is False
    assert line.verify().ok


def test_a_self_test_that_never_finishes_fails_the_unit_naming_the_wait(
    line_factory: LineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_selftest, "KAT_MIN", 3600.0)  # the KAT never ends
    monkeypatch.setattr(selftest, "SELFTEST_WAIT", 0.5)
    line = line_factory()
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("verify", "selftest")
    assert "still running after 0.5 s (kat_busy)" in message
