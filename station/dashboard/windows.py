"""Time windows of the pages (shift, day, week or from/to, bounded) and a station's state in words.

>>> w = window("day", now="2025-03-04T14:00:00.000Z"); w.start, w.end, w.label
('2025-03-03T14:00:00.000Z', '2025-03-04T14:00:00.000Z', 'last 24 hours')
>>> state_of(last="2025-03-04T13:10:00.000Z", now="2025-03-04T14:00:00.000Z", behind=0).word
'silent 50 min'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from station.core.errors import StationError
from station.records.model import rfc3339

WINDOWS = {
    "shift": (timedelta(hours=8), "last 8 hours"),
    "day": (timedelta(days=1), "last 24 hours"),
    "week": (timedelta(days=7), "last 7 days"),
}
LONGEST = timedelta(days=31)  # a from/to window may not be longer: every query stays bounded
IDLE_AFTER = timedelta(minutes=5)  # no record for this long: idle (no unit finished)
SILENT_AFTER = timedelta(minutes=30)  # no record for this long: silent (stopped, or stopped syncing)
BEHIND_AFTER = timedelta(minutes=2)  # a record reached the line this much after it was made: sync behind


class BadWindow(StationError):
    """A window the pages refuse (unknown name, unreadable or too long a from/to)."""


@dataclass(frozen=True)
class Window:
    name: str
    start: str  # RFC 3339 UTC text, as the ``created`` column: compared as text
    end: str
    label: str


@dataclass(frozen=True)
class State:
    """A station's state: ``key`` for the colour class, ``word`` to read, ``mark`` the second cue."""

    key: str
    word: str
    mark: str


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadWindow(f"not a time: {text[:40]!r} (use 2025-03-04T06:00:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window(name: str = "shift", *, now: str, start: str | None = None, end: str | None = None) -> Window:
    """The window ``name`` ending ``now``, or ``start``..``end`` (both given, at most ``LONGEST``)."""
    if start or end:
        if not (start and end):
            raise BadWindow("give both from and to")
        first, last = parse_time(start), parse_time(end)
        if not timedelta(0) < last - first <= LONGEST:
            raise BadWindow(f"from must be before to, at most {LONGEST.days} days apart")
        return Window(
            "custom", rfc3339(first), rfc3339(last), f"{rfc3339(first)[:16]} to {rfc3339(last)[:16]}"
        )
    if name not in WINDOWS:
        raise BadWindow(f"unknown window {name[:20]!r}: one of {', '.join(WINDOWS)}")
    length, label = WINDOWS[name]
    last = parse_time(now)
    return Window(name, rfc3339(last - length), rfc3339(last), label)


def state_of(*, last: str | None, now: str, behind: int, late: timedelta | None = None) -> State:
    """``last``: the station's newest record's time; ``behind``: records waiting to reach the line;
    ``late``: how long after it was made its newest record reached the line."""
    if last is None:
        return State("silent", "no records yet", "■")
    quiet = parse_time(now) - parse_time(last)
    if behind > 0 or (late is not None and late > BEHIND_AFTER):
        return State("behind", "sync behind", "▲")
    if quiet > SILENT_AFTER:
        return State("silent", f"silent {_duration(quiet)}", "■")
    if quiet > IDLE_AFTER:
        return State("idle", "idle", "◆")
    return State("producing", "producing", "●")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"
