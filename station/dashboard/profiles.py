"""The lots/profiles page: per personalisation profile and day, units made, attempts and first-pass yield.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     profiles_page(session, now="2025-03-04T14:00:00.000Z").figures["profiles"]
0
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from station.dashboard.charts import yield_bars
from station.dashboard.lineview import UNITS
from station.dashboard.source import Session
from station.dashboard.tables import Page, Table
from station.dashboard.windows import Window, parse_time, window
from station.records.model import rfc3339

NONE = "(no profile)"
MEMO_DAYS = 400  # whole days kept at most (each a handful of rows)
Row = tuple[str, str, int, int, int, int, int]
_PG = (  # per profile, over one day: each unit by its first attempt that day
    "SELECT substr(first_profile, 1, 10), COALESCE(NULLIF(substr(first_profile, 25), ''), ?), "
    "sum(n), sum(p), count(*), sum(CASE WHEN substr(first_outcome, 25) = 'pass' THEN 1 ELSE 0 END), "
    f"sum(CASE WHEN p > 0 THEN 1 ELSE 0 END) FROM ({UNITS}) AS units GROUP BY 1, 2"
)
# Records that reached the line after a day was counted but belong to it (a station that synced late).
_LATE = "SELECT min(created) FROM records WHERE received_at > CAST(? AS timestamptz) - interval '5 minutes'"


def days_of(span: Window) -> list[tuple[str, str]]:
    """``span`` cut at each midnight (UTC): the pieces the page counts one by one."""
    pieces, start = [], parse_time(span.start)
    end = parse_time(span.end)
    while start < end:
        midnight = (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        pieces.append((rfc3339(start), rfc3339(min(midnight, end))))
        start = midnight
    return pieces


def by_profile_and_day(session: Session, span: Window) -> list[Row]:
    """(day, profile, records, passed, units tried, passed first time, units made) per profile and day;
    a unit tried on two days counts on each. A whole past day is counted once and kept while no record
    of it arrives late (records never change)."""
    found: list[Row] = []
    for start, end in days_of(span):
        found += _one_day(session, start, end)
    return sorted(found)


def _one_day(session: Session, start: str, end: str) -> list[Row]:
    if session.kind != "postgres":
        return _one_day_from_payloads(session, start, end)
    whole = start.endswith("T00:00:00.000Z") and end.endswith("T00:00:00.000Z")
    memo = session.source.memo
    mark = str(session.rows("SELECT COALESCE(CAST(max(received_at) AS text), '') FROM records", ())[0][0])
    kept = memo.get(("profiles", start)) if whole else None
    if kept is not None:
        late = session.rows(_LATE, (kept[0] or "-infinity",))[0][0] if kept[0] != mark else None
        if late is None or late >= end:
            memo[("profiles", start)] = (mark, kept[1])
            return list(kept[1])
    rows = [
        (str(d), str(p), *(int(n) for n in rest)) for d, p, *rest in session.rows(_PG, (NONE, start, end))
    ]
    if whole:
        if len(memo) > MEMO_DAYS:
            memo.clear()
        memo[("profiles", start)] = (mark, rows)
    return rows  # type: ignore[return-value]


def _one_day_from_payloads(session: Session, start: str, end: str) -> list[Row]:
    """A station's store has no profile column: the profile comes from each unit's first payload."""
    found = session.rows(
        "SELECT record_id, COALESCE(devid, station_id || ':' || seq), outcome, created, jws FROM records "
        "WHERE created >= ? AND created < ? AND mode = 'production' ORDER BY created, station_id, seq",
        (start, end),
    )
    units: dict[str, list[Any]] = {}  # unit -> [day, profile, first outcome, records, passed]
    for record_id, unit, outcome, created, jws in found:
        if unit not in units:
            profile = session.facts(record_id, (jws,)).profile or NONE
            units[unit] = [created[:10], profile, outcome, 0, 0]
        units[unit][3] += 1
        units[unit][4] += outcome == "pass"
    tally: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for day, profile, first, records, passed in units.values():
        counts = tally[(day, profile)]
        for index, value in enumerate((records, passed, 1, first == "pass", passed > 0)):
            counts[index] += value
    return [(day, profile, *counts) for (day, profile), counts in tally.items()]  # type: ignore[misc]


def profiles_page(
    session: Session, *, now: str, name: str = "week", start: str | None = None, end: str | None = None
) -> Page:
    span = window(name, now=now, start=start, end=end)
    rows = by_profile_and_day(session, span)
    totals: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for _day, profile, *counts in rows:
        totals[profile] = [a + b for a, b in zip(totals[profile], counts, strict=True)]
    table = Table(
        "profiles",
        f"Per profile and day, {span.label}",
        ("day", "profile", "units made", "records", "passed", "units tried", "first-pass yield"),
        [
            (day, profile, made, records, passed, units, _ratio(first, units))
            for day, profile, records, passed, units, first, made in sorted(
                rows, key=lambda r: (r[0], r[1]), reverse=True
            )
        ],
        note="per day (UTC); units made: units with a passing production record that day; first-pass yield: "
        "units whose first attempt that day passed (a unit tried on two days counts on each)",
    )
    summary = Table(
        "totals",
        f"Per profile, {span.label}",
        ("profile", "units made", "records", "first-pass yield"),
        [(p, c[4], c[0], _ratio(c[3], c[2])) for p, c in sorted(totals.items(), key=lambda i: -i[1][4])],
    )
    return Page(
        "Lots and profiles",
        figures={"window": span.label, "from": span.start, "to": span.end, "profiles": len(totals)},
        tables=[summary, table],
        charts=[
            yield_bars(
                [(p, c[3], c[2]) for p, c in totals.items()],
                title=f"First-pass yield per profile, {span.label}",
            )
        ],
    )


def _ratio(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"
