"""The shift report (print it from the browser): yield, counts by outcome and reason, stations, record ids.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     report_page(session, now="2025-03-04T14:00:00.000Z").figures["records"]
0
"""

from __future__ import annotations

from station.dashboard.failures import failure_groups
from station.dashboard.lineview import first_tries
from station.dashboard.source import Session
from station.dashboard.tables import Page, Table
from station.dashboard.windows import window
from station.gui.model.words import step_title


def report_page(
    session: Session, *, now: str, name: str = "shift", start: str | None = None, end: str | None = None
) -> Page:
    span = window(name, now=now, start=start, end=end)
    bounds = (span.start, span.end)
    outcomes = session.rows(
        "SELECT mode, outcome, count(*) FROM records WHERE created >= ? AND created < ? "
        "GROUP BY mode, outcome ORDER BY mode, outcome",
        bounds,
    )
    first = first_tries(session, *bounds).values()
    units = sum(counts["units"] for counts in first)
    passed = sum(counts["pass"] for counts in first)
    stations = []
    for station, low, high, count in session.rows(
        "SELECT station_id, min(seq), max(seq), count(*) FROM records WHERE created >= ? AND created < ? "
        "GROUP BY station_id ORDER BY station_id",
        bounds,
    ):
        ids = dict(
            session.rows(
                "SELECT seq, record_id FROM records WHERE station_id = ? AND seq IN (?, ?)",
                (station, low, high),
            )
        )
        stations.append((station, int(count), f"{low}-{high}", ids.get(low, ""), ids.get(high, "")))
    groups = failure_groups(session, span)
    records = sum(int(n) for *_, n in outcomes)
    return Page(
        f"Shift report, {span.start[:16].replace('T', ' ')} to {span.end[:16].replace('T', ' ')} UTC",
        figures={
            "window": span.label,
            "from": span.start,
            "to": span.end,
            "records": records,
            "first_pass_yield": f"{100 * passed / units:.1f} %" if units else "-",
            "units_tried": units,
            "units_passed_first_time": passed,
        },
        tables=[
            Table(
                "outcomes",
                "Records by mode and outcome",
                ("mode", "outcome", "records"),
                [(m, o.upper(), int(n)) for m, o, n in outcomes],
            ),
            Table(
                "reasons",
                "FAIL and ERROR by reason",
                ("step", "code", "reason", "FAIL", "ERROR", "total"),
                [
                    (
                        step_title(g.step) or "(none)",
                        g.code or "(none)",
                        g.reason,
                        g.counts["fail"],
                        g.counts["error"],
                        g.total,
                    )
                    for g in groups
                ],
            ),
            Table(
                "stations",
                "Stations and record id range",
                ("station", "records", "seq", "first record", "last record"),
                stations,
            ),
        ],
    )
