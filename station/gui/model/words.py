"""Plain words for the operator: step titles, failure reasons and what to do next — one sentence per
outcome, with no HTTP status, exception name or step identifier (the panel and the record keep those).

>>> failure_text("provision", "POST /api/system/provision: refused with 406")   # the log keeps the original
'Provisioning: the unit refused the request'
>>> instruction(Outcome.ERROR, "anything", code="timeout")                    # the failure's code decides
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
CALL_ENGINEER = "Set the unit aside, call the line engineer."
PLUG_AGAIN = "Plug it in again for a new run, or set it aside for QA."
REMOVE = "Remove unit"
INSERT = "Insert a unit"
TAKE_OUT = "Take the unit out"
ACKNOWLEDGE = "Press Space (or Done) when done"

# Faults outside the unit: (reason, instruction) on the tile; the banner joins them with " — ".
STATION_FAULT = ("Station fault", "Set the unit aside, call the line engineer.")
INTERRUPTED = ("Stopped while writing to the unit", "Leave it in the slot: it resumes at the next start.")
SLOT_FAULT = ("Slot not responding", "Check the cable / hub.")
LABEL_FAULT = ("Label not printed", "Reprint the label (Ctrl+R), then remove the unit.")
LOST_CODES = ("timeout", "unreachable")
STATION_CODES = ("internal",)  # the station's own trouble, not the unit's

# Failure codes (a record's ``failure.code``) with a reason of their own in plain words.
CODE_REASONS = {
    "selftest": "the unit's own self-test failed (known-answer test, entropy or secure element)",
}

_REQUEST = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) /\S*:?\s*(?P<rest>.*)$", re.DOTALL)
_REQUEST_ASIDE = re.compile(r"\s*\((GET|POST|PUT|DELETE|PATCH) /[^()]*(\([^()]*\)[^()]*)*\)")
_CODES = re.compile(r"\s*\((HTTP )?[1-5]\d\d\)|\s*\(\w*(Error|Exception|Timeout|Refused)\)")
_REMOVED = "was removed from slot"
_STEP_NAME = re.compile(r"\b(during|in|at|after|before) ([a-z]+(?:-[a-z]+)*)\b")


def step_title(name: str | None) -> str:
    """The step's name as a person says it; unknown names are tidied, not hidden."""
    if not name:
        return ""
    return STEP_TITLES.get(name, name.replace("-", " ").replace("_", " ").capitalize())


def plain_reason(message: str, code: str | None = None) -> str:
    """Why the unit stopped, in plain words; ``code`` (the failure's code) decides when it is known."""
    if _REMOVED in message:  # the slot worker's words for a unit pulled mid-run, whatever the code
        return "the unit was taken out before it was finished"
    by_code = _reason_of_code(code)
    if by_code:
        return by_code
    match = _REQUEST.match(message.strip())
    if match is None and "no answer within" in message:  # a step that ran out its deadline
        return "the unit did not answer in time"
    if match is None:  # already plain; drop technical asides: "(GET /api/...: reset)", "(406)", "(KeyError)"
        plain = _CODES.sub("", _REQUEST_ASIDE.sub("", message)).strip()
        return _titled_steps(plain) or "no reason given"
    rest = match.group("rest").lower()
    if "no answer within" in rest or "timed out" in rest:
        return "the unit did not answer in time"
    if "refused with" in rest:
        return "the unit refused the request"
    if "failed on the unit" in rest:
        return "the unit reported an internal error"
    if "not json" in rest or "reply" in rest or "answered" in rest:
        return "the unit's answer was garbled"
    return "the connection to the unit was lost"


def _reason_of_code(code: str | None) -> str:
    if code is None:
        return ""
    if code in CODE_REASONS:
        return CODE_REASONS[code]
    if code == "timeout":
        return "the unit did not answer in time"
    if code == "unreachable":
        return "the connection to the unit was lost"
    if code == "bad-reply":
        return "the unit's answer was garbled"
    if code.startswith("http-5"):
        return "the unit reported an internal error"
    if code.startswith("http-"):
        return "the unit refused the request"
    if code in STATION_CODES:
        return "the station hit an internal error"
    if code == "cancelled":
        return "stopped before the unit was finished"
    return ""  # a step's own code (wrong-product, ...): its message says it best


def _titled_steps(text: str) -> str:
    """ "stopped during personalize" -> "stopped during Personalisation": step ids read as titles."""

    def title(found: re.Match[str]) -> str:
        name = found.group(2)
        return f"{found.group(1)} {STEP_TITLES[name]}" if name in STEP_TITLES else found.group(0)

    return _STEP_NAME.sub(title, text)


def failure_text(step: str | None, message: str, code: str | None = None) -> str:
    """``Provisioning: the unit refused the request`` — the step's title, then the reason."""
    title = step_title(step)
    reason = plain_reason(message, code)
    return f"{title}: {reason}" if title else reason


def instruction(outcome: Outcome, message: str, code: str | None = None) -> str:
    """What the operator does with the unit after this outcome (never contradicting ``plain_reason``)."""
    if outcome is Outcome.PASS:
        return REMOVE
    if outcome is Outcome.ABORTED:
        return "Stopped before the unit was finished. " + SET_ASIDE
    if _REMOVED in message and code in (None, *LOST_CODES):
        return PLUG_AGAIN
    if code in STATION_CODES:
        return CALL_ENGINEER
    lost = code in LOST_CODES if code is not None else plain_reason(message) in _LOST_REASONS
    if outcome is Outcome.ERROR and lost:
        return CHECK_CABLE
    return SET_ASIDE


_LOST_REASONS = ("the unit did not answer in time", "the connection to the unit was lost")
