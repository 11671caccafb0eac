"""The lots/profiles page: per personalisation profile and day, units made, attempts and first-pass yield.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     profiles_page(session, now="2025-03-04T14:00:00.000Z").figures["profiles"]
0
"""

from __future__ import annotations

from collections import defaultdict

from station.dashboard.charts import yield_bars
from station.dashboard.source import Session
from station.dashboard.tables import Page, Table
from station.dashboard.windows import Window, window

NONE = "(no profile)"
# Production records of the window, each with whether it is its unit's first attempt in the window.
_FIRST = (
    "SELECT substr(created, 1, 10), COALESCE(profile, ?), outcome, devid, "
    "ROW_NUMBER() OVER (PARTITION BY COALESCE(devid, record_id) ORDER BY created, station_id, seq) "
    "FROM records WHERE created >= ? AND created < ? AND mode = 'production'"
)
_PG = (
    "SELECT day, profile, count(*), count(*) FILTER (WHERE outcome = 'pass'), "
    "count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n = 1 AND outcome = 'pass'), "
    "count(DISTINCT devid) FILTER (WHERE outcome = 'pass') "
    f"FROM ({_FIRST}) AS t(day, profile, outcome, devid, n) GROUP BY 1, 2"
)


def by_profile_and_day(session: Session, span: Window) -> list[tuple[str, str, int, int, int, int, int]]:
    """(day, profile, records, passed, units, passed first time, units made) per profile and day."""
    if session.kind == "postgres":
        rows = session.rows(_PG, (NONE, span.start, span.end))
        return sorted((str(d), str(p), *(int(n) for n in rest)) for d, p, *rest in rows)  # type: ignore[misc]
    found = session.rows(
        "SELECT substr(created, 1, 10), record_id, devid, outcome, created, station_id, seq, jws "
        "FROM records "
        "WHERE created >= ? AND created < ? AND mode = 'production' ORDER BY created, station_id, seq",
        (span.start, span.end),
    )
    tally: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    made: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    seen: set[str] = set()
    for day, record_id, devid, outcome, _created, _station, _seq, jws in found:
        key = (day, session.facts(record_id, (jws,)).profile or NONE)
        first = (devid or record_id) not in seen
        seen.add(devid or record_id)
        counts = tally[key]
        counts[0] += 1
        counts[1] += outcome == "pass"
        counts[2] += first
        counts[3] += first and outcome == "pass"
        if outcome == "pass" and devid:
            made[key].add(devid)
    return sorted(
        (day, profile, counts[0], counts[1], counts[2], counts[3], len(made[(day, profile)]))
        for (day, profile), counts in tally.items()
    )


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
        note="units made: units with a passing production record that day; first-pass yield: of the units "
        "tried for the first time in the window, those whose first attempt passed",
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
