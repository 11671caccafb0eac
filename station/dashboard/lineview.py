"""The line page: each station's state, last record, units per hour, first-pass yield, open failures.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     line_page(session, now="2025-03-04T14:00:00.000Z").figures["stations"]
0
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from station.dashboard.charts import hourly_bars
from station.dashboard.source import Session
from station.dashboard.tables import RECORD_COLUMNS, Link, Mark, Page, Table, record_row
from station.dashboard.windows import parse_time, state_of, window
from station.records.model import rfc3339

LATEST = 15  # records in the live list
MODE_ORDER = ("production", "qa", "rma", "readers")


def station_ids(session: Session) -> list[str]:
    """Every station of the line: registered keys in the line database, the store's own otherwise."""
    if session.kind == "postgres":
        return [row[0] for row in session.rows("SELECT DISTINCT station_id FROM stations ORDER BY 1", ())]
    return [row[0] for row in session.rows("SELECT DISTINCT station_id FROM records ORDER BY 1", ())]


def line_page(session: Session, *, now: str, name: str = "shift") -> Page:
    span = window(name, now=now)
    hour_ago = rfc3339(parse_time(now) - timedelta(hours=1))
    counts = _by_station(
        session,
        "SELECT station_id, outcome, count(*) FROM records "
        "WHERE created >= ? AND created < ? GROUP BY station_id, outcome",
        (span.start, span.end),
    )
    hourly = dict(
        session.rows(
            "SELECT station_id, count(*) FROM records WHERE created >= ? AND created < ? GROUP BY station_id",
            (hour_ago, now),
        )
    )
    first = first_tries(session, span.start, span.end)
    open_ = _by_station(session, _OPEN_FAILURES, (span.start, span.end))
    rows: list[tuple[str, list[Any]]] = []
    for station in station_ids(session):
        rows.append(
            _station_row(
                session,
                station,
                now=now,
                counts=counts[station],
                hourly=hourly.get(station, 0),
                first=first[station],
                open_=open_[station],
            )
        )
    rows.sort(key=lambda item: (_mode_rank(item[0]), item[1][0].text))
    stations = Table(
        "stations",
        f"Stations ({span.label})",
        (
            "station",
            "mode",
            "state",
            "last record",
            "last at",
            "operator (last record)",
            "units/h",
            "records",
            "first-pass yield",
            "open FAIL",
            "open ERROR",
        ),
        [row for _, row in rows],
        note="units/h: records in the last hour; first-pass yield: production units whose first attempt "
        "in the window passed; open: FAIL/ERROR records whose unit has not passed since",
    )
    total = {key: sum(c.get(key, 0) for c in counts.values()) for key in ("pass", "fail", "error", "aborted")}
    firsts = [sum(f.get("units", 0) for f in first.values()), sum(f.get("pass", 0) for f in first.values())]
    hours = session.rows(
        "SELECT substr(created, 1, 13), outcome, count(*) FROM records "
        "WHERE created >= ? AND created < ? GROUP BY 1, 2",
        (span.start, span.end),
    )
    return Page(
        "Line",
        figures={
            "window": span.label,
            "from": span.start,
            "to": span.end,
            "stations": len(rows),
            "records": sum(total.values()),
            "outcomes": total,
            "first_pass_yield": _ratio(firsts[1], firsts[0]),
            "states": {
                word: sum(1 for k, _ in rows if k.endswith(key))
                for key, word in (
                    ("producing", "producing"),
                    ("idle", "idle"),
                    ("silent", "silent"),
                    ("behind", "sync_behind"),
                )
            },
        },
        tables=[stations, latest_records(session)],
        charts=[hourly_bars(hours, span.start, span.end, title=f"Records per hour, {span.label}")],
    )


def latest_records(session: Session, limit: int = LATEST) -> Table:
    """The newest records of the line (the live list the page refreshes as records arrive)."""
    found = session.rows(
        "SELECT created, station_id, seq, record_id, devid, mode, outcome FROM records "
        "ORDER BY created DESC LIMIT ?",
        (limit,),
    )
    return Table(
        "latest",
        "Latest records",
        RECORD_COLUMNS,
        [record_row(row) for row in found],
    )


# Each unit's production records in the window, grouped by unit (a hash, no sort): its first attempt's
# station and outcome are the text after the fixed-width time of min(created || ...) (24 characters).
UNITS = (
    "SELECT min(created || station_id) AS first_station, min(created || outcome) AS first_outcome, "
    "min(created || COALESCE(profile, '')) AS first_profile, count(*) AS n, "
    "sum(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS p FROM records "
    "WHERE created >= ? AND created < ? AND mode = 'production' "
    "GROUP BY COALESCE(devid, station_id || ':' || seq)"
)
_FIRST_TRIES = (  # per station: units whose first attempt in the window it made, and how many of those passed
    "SELECT substr(first_station, 25), count(*), "
    "sum(CASE WHEN substr(first_outcome, 25) = 'pass' THEN 1 ELSE 0 END) FROM ("
    + UNITS.replace("min(created || COALESCE(profile, '')) AS first_profile, ", "")
    + ") AS units GROUP BY 1"
)
_OPEN_FAILURES = (
    "SELECT station_id, outcome, count(*) FROM records r WHERE created >= ? AND created < ? "
    "AND outcome IN ('fail', 'error') AND (devid IS NULL OR NOT EXISTS (SELECT 1 FROM records p "
    "WHERE p.devid = r.devid AND p.outcome = 'pass' AND p.created > r.created)) GROUP BY station_id, outcome"
)


def first_tries(session: Session, start: str, end: str) -> defaultdict[str, dict[str, int]]:
    """Per station: ``units`` whose first production attempt in the window it made, ``pass`` of those."""
    found: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for station, units, passed in session.rows(_FIRST_TRIES, (start, end)):
        found[station] = {"units": int(units), "pass": int(passed or 0)}
    return found


def _by_station(session: Session, sql: str, window_: tuple[str, str]) -> defaultdict[str, dict[str, int]]:
    parameters = window_ * sql.count("created >= ? AND created < ?")
    found: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for station, key, count in session.rows(sql, parameters):
        found[station][key] = int(count)
    return found


def _station_row(
    session: Session,
    station: str,
    *,
    now: str,
    counts: dict[str, int],
    hourly: int,
    first: dict[str, int],
    open_: dict[str, int],
) -> tuple[str, list[Any]]:
    late_sql = "received_at - CAST(created AS timestamptz)" if session.kind == "postgres" else "NULL"
    last = session.rows(
        f"SELECT seq, record_id, mode, created, {late_sql}, {session.facts_columns} FROM records "
        "WHERE station_id = ? ORDER BY seq DESC LIMIT 1",
        (station,),
    )
    if not last:
        state = state_of(last=None, now=now, behind=0)
        return f"~{state.key}", [
            Link(station, f"/failures?station={station}"),
            "",
            Mark(state.key, state.mark, state.word),
            "",
            "",
            "",
            0,
            0,
            "",
            0,
            0,
        ]
    seq, record_id, mode, created, late, *tail = last[0]
    facts = session.facts(record_id, tail)
    state = state_of(last=created, now=now, behind=_unsent(session, station), late=late)
    records = sum(counts.values())
    row = [
        Link(station, f"/failures?station={station}"),
        mode,
        Mark(state.key, state.mark, state.word),
        Link(f"#{seq}", f"/record/{record_id}"),
        created,
        facts.operator_id or "",
        hourly,
        records,
        _ratio(first.get("pass", 0), first.get("units", 0)),
        open_.get("fail", 0),
        open_.get("error", 0),
    ]
    return f"{mode}~{state.key}", row


def _unsent(session: Session, station: str) -> int:
    """A station's store: records not yet in the line database (0 when the station does not sync)."""
    if session.kind == "postgres":
        return 0
    records, sent, synced = session.rows(
        "SELECT (SELECT count(*) FROM records WHERE station_id = ?), "
        "(SELECT count(*) FROM sync_state WHERE station_id = ? AND state = 'sent'), "
        "(SELECT count(*) FROM sync_state WHERE station_id = ?)",
        (station, station, station),
    )[0]
    return int(records) - int(sent) if synced else 0


def _mode_rank(key: str) -> int:
    mode = key.split("~", maxsplit=1)[0]
    return MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER)


def _ratio(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"
