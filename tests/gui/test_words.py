"""Device-level messages become plain words on the tile; plain messages pass through unchanged."""

from __future__ import annotations

import pytest

from station.core.events import Outcome
from station.gui.model import words

SELFTEST_FAILED = (
    "the unit's own self-test failed: fail state 0x01 (self-test (KAT) failure); set the unit aside for QA"
)


@pytest.mark.parametrize(
    ("message", "plain"),
    [
        ("GET /api/logger/key: reply is not JSON", "the unit's answer was garbled"),
        ("GET /api/system/status: no answer within 10 s (read timeout)", "the unit did not answer in time"),
        ("POST /api/system/config/provisioning refused with 406", "the unit refused the request (406)"),
        ("GET /api/system/status failed on the unit with 500", "the unit reported an internal error (500)"),
        ("GET /api/system/status: connection refused", "the connection to the unit was lost"),
        ("the unit's clock is not set (check-in lost?)", "the unit's clock is not set (check-in lost?)"),
        (SELFTEST_FAILED, SELFTEST_FAILED),  # already plain: what failed, and what to do
        (
            "the unit was removed during attest (GET /api/system/status: reset (104)); plug it in",
            "the unit was removed during attest; plug it in",
        ),
    ],
)
def test_plain_reason(message: str, plain: str) -> None:
    assert words.plain_reason(message) == plain


def test_instructions_follow_the_outcome() -> None:
    assert words.instruction(Outcome.PASS, "") == words.REMOVE
    assert words.instruction(Outcome.FAIL, "anything") == words.SET_ASIDE
    assert words.instruction(Outcome.ERROR, "GET /x: no answer within 1 s") == words.CHECK_CABLE
    assert words.SET_ASIDE in words.instruction(Outcome.ABORTED, "stopped")
    assert words.step_title("verify-lock") == "Lock check"
    assert words.step_title("new-step") == "New step"


def test_a_step_deadline_is_a_unit_that_did_not_answer() -> None:
    """The engine's deadline verdict ("identify: no answer within its 30 s deadline") reads like a timeout."""
    message = "identify: no answer within its 30 s deadline"
    assert words.plain_reason(message) == "the unit did not answer in time"
    assert words.instruction(Outcome.ERROR, message) == words.CHECK_CABLE


def test_a_failed_self_test_has_words_of_its_own() -> None:
    assert words.code_reason("selftest", SELFTEST_FAILED).startswith("the unit's own self-test failed")
    assert words.code_reason("timeout", "GET /x: no answer within 1 s") == "the unit did not answer in time"
    assert words.instruction(Outcome.FAIL, SELFTEST_FAILED) == words.SET_ASIDE
