"""Records and audit entries in words and local time (the raw JSON stays one click away in the views).

>>> local_time("2026-12-07T10:02:41.123Z", zone=UTC), verdict_word("pass")
('2026-12-07 10:02:41', '✔ PASS')
>>> audit_sentence("mode-change", {"from": None, "to": "production"})
'from none to production'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from station.core.text import printable
from station.gui.model import palette, words

if TYPE_CHECKING:
    from station.records.view import RecordView

_MARKS = {"pass": "✔", "fail": "✖", "error": "!", "aborted": "■", "ok": "✔", "refused": "✖", "failed": "✖"}
_ACTIONS = {
    "login": "logged in",
    "logout": "logged out",
    "login-refused": "login refused",
    "mode-switch": "switched mode",
    "mode-change": "changed mode",
    "user-add": "account added",
    "label-reprint": "label reprint",
}


def local_time(stamp: str, zone: tzinfo | None = None) -> str:
    """An ISO UTC timestamp as the station's local wall-clock time, to the second (unparsable: as is)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def verdict_word(outcome: str) -> str:
    """``✔ PASS``: a mark and the word, so a verdict reads without its colour."""
    return f"{_MARKS.get(outcome.lower(), '•')} {outcome.upper()}"


def verdict_colour(outcome: str) -> str:
    """The verdict's text colour on the window's dark background."""
    value = outcome.lower()
    if value in ("pass", "ok"):
        return palette.VERIFIED_TEXT
    if value in ("fail", "refused", "failed"):
        return palette.UNVERIFIED_TEXT
    return palette.WARN_TEXT


def action_words(action: str) -> str:
    return _ACTIONS.get(action, action.replace("-", " ").replace("_", " "))


def audit_sentence(action: str, detail: Mapping[str, Any]) -> str:
    """An entry's detail as words: ``from none to production``, ``record r-1 on printer ...``."""
    shown = {key: value for key, value in detail.items() if key != "face"}
    parts = []
    if "from" in shown or "to" in shown:
        parts.append(f"from {_value(shown.pop('from', None))} to {_value(shown.pop('to', None))}")
    parts.extend(f"{key.replace('_', ' ')} {_value(value)}" for key, value in shown.items())
    return printable("; ".join(parts), 500)


def record_summary(view: RecordView) -> str:
    """A record (``records.view.RecordView``) in sentences: verdict, unit, who and when, steps, failure."""
    unit = view.unit.get("devid") or view.unit.get("genuine_id") or "unknown unit"
    who = f"{view.operator.get('id')} ({view.operator.get('role')})"
    started, finished = local_time(view.started), local_time(view.finished)
    lines = [
        f"{verdict_word(view.outcome)} — {view.mode} run of unit {unit} in slot {view.fixture.get('slot')} "
        f"by {who}{' (simulated unit)' if view.simulated else ''}.",
        f"Started {started}, finished {finished[11:] if finished[:10] == started[:10] else finished} "
        "(local time).",
    ]
    if view.failure is not None:
        failed_at = words.step_title(view.failure.get("step"))
        reason = words.plain_reason(str(view.failure.get("message", "")), view.failure.get("code"))
        lines.append(f"Stopped at {failed_at}: {reason}.")
    if view.superseded_by:
        lines.append(f"Superseded by record {view.superseded_by}: kept as history.")
    lines.append("Steps:")
    for step in view.steps:
        seconds = "" if step.seconds is None else f" — {step.seconds:.1f} s"
        tries = f", {step.attempts} attempts" if step.attempts > 1 else ""
        lines.append(f"  {_MARKS.get(step.outcome, '•')} {words.step_title(step.name)}{seconds}{tries}")
    lines.append(f"Line database: {view.line}.")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
