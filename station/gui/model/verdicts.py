"""What a finished unit's tile says in each mode: the verdict line and what the operator does next.

>>> advice = verdict_advice("qa", Outcome.FAIL, "compare", "3 mismatch(es) with production record", {})
>>> advice.reason, advice.instruction
('3 mismatches with its record', 'Set aside for the line engineer.')
>>> shorten_ids("supersedes 5f0c1d2e-1111-2222-3333-444455556666")         # on a tile; whole elsewhere
'supersedes 5f0c1d2e…'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from station.core import events
from station.core.events import Outcome
from station.gui.model import words

MODE_PREFIX = {"qa": "QA ", "rma": "RMA "}
ALREADY_PASSED = "Already passed: unchanged since, no new record"  # a restart over a unit left in its slot
SET_ASIDE_ENGINEER = "Set aside for the line engineer."
# Where an acknowledged unit goes, kept on its tile until it is taken out (the instruction it answers).
DESTINATIONS = {
    words.SET_ASIDE: "Take out → QA",
    words.CHECK_CABLE: "Take out → QA",
    words.CALL_ENGINEER: "Take out → line engineer",
    words.PLUG_AGAIN: "Plug in again, or take out → QA",
    words.STATION_FAULT[1]: "Take out → line engineer",
    words.INTERRUPTED[1]: "Leave it in: resumes at the next start",
    SET_ASIDE_ENGINEER: "Take out → line engineer",
}
ACCEPT_UNKNOWN = "An RMA engineer may accept it: switch “Accept unknown units” ON, then run it again."
_UUID = re.compile(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_MISMATCHES = re.compile(r"^(\d+) mismatch\(es\)")
_SUPERSEDES = re.compile(r"supersedes its (\w+) record (\S+)")
_INVENTORY = re.compile(r"^inventory number (\S+)")
_UNKNOWN_UNIT = "an RMA engineer may accept it"


@dataclass(frozen=True)
class Advice:
    reason: str
    instruction: str


def verdict_advice(
    mode: str,
    outcome: Outcome,
    failed_step: str | None,
    message: str,
    steps: Mapping[str, str],
    *,
    code: str | None = None,
) -> Advice:
    """The tile's reason and instruction for a finished run of ``mode``; ``steps``: step → its message,
    ``code``: the failure's code (what the station observed, which decides the words when known)."""
    if outcome is Outcome.PASS:
        return Advice(
            ALREADY_PASSED if message == events.ALREADY_PASSED else _pass_reason(mode, steps), words.REMOVE
        )
    if mode == "rma" and _UNKNOWN_UNIT in message:
        return Advice("Unknown unit: no passing record of it on this line", ACCEPT_UNKNOWN)
    reason = _qa_reason(message) if mode == "qa" else None
    reason = reason or words.failure_text(failed_step, message, code)
    instruction = words.instruction(outcome, message, code)
    if mode == "qa" and instruction == words.SET_ASIDE:
        instruction = SET_ASIDE_ENGINEER  # a unit failing QA goes to the line engineer, not back to QA
    return Advice(shorten_ids(reason), instruction)


def destination(instruction: str) -> str:
    """Where the unit goes, in three or four words, for the tile after the operator acknowledged it."""
    if instruction.startswith("Stopped before the unit was finished"):
        return "Take out → QA"
    return DESTINATIONS.get(instruction, words.TAKE_OUT)


def shorten_ids(text: str) -> str:
    """Record ids (UUIDs) cut to their first 8 characters, for a tile."""
    return _UUID.sub(r"\1…", text)


def _pass_reason(mode: str, steps: Mapping[str, str]) -> str:
    if mode == "qa":
        matched = steps.get("compare", "")
        return shorten_ids(matched[:1].upper() + matched[1:]) if matched else "Matches its record"
    if mode == "rma":
        history = steps.get("history", "") + " " + steps.get("attest", "")
        found = _SUPERSEDES.search(history)
        if found is not None:
            return shorten_ids(f"Supersedes {found.group(1)} record {found.group(2)}")
        if "accepted as an unknown unit" in history:
            return "Accepted as an unknown unit (recorded)"
        return "Made new"
    inventory = _INVENTORY.match(steps.get("inventory", ""))
    return f"Inventory {inventory.group(1)}" if inventory is not None else ""


def _qa_reason(message: str) -> str | None:
    found = _MISMATCHES.match(message)
    if found is None:
        return None
    count = int(found.group(1))
    return f"{count} mismatch{'es' if count != 1 else ''} with its record"
