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
        ("POST /api/system/config/provisioning refused with 406", "the unit refused the request"),
        ("GET /api/system/status failed on the unit with 500", "the unit reported an internal error"),
        ("GET /api/system/status: connection refused", "the connection to the unit was lost"),
        ("the unit's clock is not set (check-in lost?)", "the unit's clock is not set (check-in lost?)"),
        (SELFTEST_FAILED, SELFTEST_FAILED),  # already plain: what failed, and what to do
        (
            "the unit was removed during attest (GET /api/system/status: reset (104)); plug it in",
            "the unit was removed during Attestation; plug it in",
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
    assert words.plain_reason(SELFTEST_FAILED, "selftest").startswith("the unit's own self-test failed")
    assert words.plain_reason("GET /x: no answer within 1 s", "timeout") == "the unit did not answer in time"
    assert words.instruction(Outcome.FAIL, SELFTEST_FAILED, "selftest") == words.SET_ASIDE


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("bad-reply", "GET /api/logger/key: the unit's answer was garbled (200)"),
        ("http-406", "POST /api/system/config/provisioning refused with 406"),
        ("http-401", "POST /api/system/config/provisioning refused with 401"),
        ("internal", "internal error (KeyError); see the station log"),
        (None, "unexpected problem (KeyError)"),
        (None, "the unit's answer was garbled (200)"),
    ],
)
def test_no_status_exception_name_or_step_id_reaches_the_tile(code: str | None, message: str) -> None:
    """Issue 18: "(200)", "(406)", "(401)", "(KeyError)" and step identifiers stay in the panel and record."""
    text = (
        words.failure_text("personalize", message, code)
        + " "
        + words.instruction(Outcome.FAIL, message, code)
    )
    for jargon in ("200", "406", "401", "KeyError", "personalize", "GET /", "POST /"):
        assert jargon not in text
    assert text.startswith("Personalisation: ")


def test_the_failure_code_decides_over_the_message_text() -> None:
    """A deadline verdict is a timeout by its code, whatever its message says."""
    assert words.plain_reason("anything at all", "timeout") == "the unit did not answer in time"
    assert words.instruction(Outcome.ERROR, "anything at all", "timeout") == words.CHECK_CABLE
    assert words.instruction(Outcome.ERROR, "internal error (KeyError)", "internal") == words.CALL_ENGINEER


def test_a_unit_pulled_mid_run_gets_one_consistent_sentence() -> None:
    """Reason and instruction never contradict: no "plug it in again … or set it aside" above "Set aside"."""
    message = (
        "the unit was removed from slot A1 during reboot (no answer in 60 s); it is unfinished: "
        "plug it in again to give it a new run, or set it aside for QA"
    )
    reason = words.failure_text("reboot", message, "timeout")
    assert reason == "Reboot: the unit was taken out before it was finished"
    assert words.instruction(Outcome.ERROR, message, "timeout") == words.PLUG_AGAIN
