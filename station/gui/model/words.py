"""Plain words for the operator: step titles, failure reasons and what to do next.

>>> failure_text("provision", "POST /api/system/provision: refused with 406")   # the log keeps the original
'Provisioning: the unit refused the request (406)'
>>> instruction(Outcome.ERROR, "GET /api/system/status: no answer within 10 s")
'Check the cable, then set the unit aside for QA.'
"""

from __future__ import annotations

import re

from station.core.events import Outcome

STEP_TITLES = {
    "identify": "Identify",
    "firmware": "Firmware",
    "check-in": "Check-in",
    "attest": "Attestation",
    "certificate": "Certificate",
    "provision": "Provisioning",
    "verify-lock": "Lock check",
    "personalize": "Personalisation",
    "verify": "Final check",
    "resume": "Resume",
    "start": "Start",
    "challenge": "Token challenge",  # QA
    "record": "Record check",
    "compare": "Comparison",
    "history": "History",  # RMA
    "wipe": "Wipe",
    "reboot": "Reboot",
    "wink": "Wink",  # readers
    "inventory": "Inventory number",
    "configure": "Configuration",
}

SET_ASIDE = "Set aside for QA."
CHECK_CABLE = "Check the cable, then set the unit aside for QA."
REMOVE = "Remove unit"
INSERT = "Insert a unit"
TAKE_OUT = "Take the unit out"
ACKNOWLEDGE = "Tap or press Space when done"

# Failure codes (a record's ``failure.code``) with a reason of their own in plain words.
CODE_REASONS = {
    "selftest": "the unit's own self-test failed (known-answer test, entropy or secure element)",
}

_REQUEST = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) /\S*:?\s*(?P<rest>.*)$", re.DOTALL)
_REQUEST_ASIDE = re.compile(r"\s*\((GET|POST|PUT|DELETE|PATCH) /[^()]*(\([^()]*\)[^()]*)*\)")
_STATUS = re.compile(r"\b(?P<status>[1-5]\d\d)\b")


def step_title(name: str | None) -> str:
    """The step's name as a person says it; unknown names are tidied, not hidden."""
    if not name:
        return ""
    return STEP_TITLES.get(name, name.replace("-", " ").replace("_", " ").capitalize())


def plain_reason(message: str) -> str:
    """A device-level message (``GET /path: ...``) in plain words; other messages are already plain."""
    match = _REQUEST.match(message.strip())
    if match is None and "no answer within" in message:  # a step that ran out its deadline
        return "the unit did not answer in time"
    if match is None:  # already plain; drop a technical aside like "(GET /api/...: connection reset)"
        return _REQUEST_ASIDE.sub("", message).strip() or "no reason given"
    rest = match.group("rest").lower()
    status = _STATUS.search(rest)
    code = f" ({status.group('status')})" if status else ""
    if "no answer within" in rest or "timed out" in rest:
        return "the unit did not answer in time"
    if "refused with" in rest:
        return f"the unit refused the request{code}"
    if "failed on the unit" in rest:
        return f"the unit reported an internal error{code}"
    if "not json" in rest or "reply" in rest or "answered" in rest:
        return f"the unit's answer was garbled{code}"
    return "the connection to the unit was lost"


def code_reason(code: str | None, message: str) -> str:
    """A failure's reason: the words of its code where it has some (``CODE_REASONS``), else the message's."""
    return CODE_REASONS.get(code or "") or plain_reason(message)


def failure_text(step: str | None, message: str) -> str:
    """``Provisioning: the unit refused the request (406)`` — the step, then the reason."""
    title = step_title(step)
    reason = plain_reason(message)
    return f"{title}: {reason}" if title else reason


def instruction(outcome: Outcome, message: str) -> str:
    """What the operator does with the unit after this outcome."""
    if outcome is Outcome.PASS:
        return REMOVE
    if outcome is Outcome.ABORTED:
        return "Stopped before the unit was finished. " + SET_ASIDE
    lost = plain_reason(message) in ("the unit did not answer in time", "the connection to the unit was lost")
    if outcome is Outcome.ERROR and lost:
        return CHECK_CABLE
    return SET_ASIDE
