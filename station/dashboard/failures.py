"""The failures page: a Pareto of FAIL/ERROR records by step and failure code, in the window's plain words.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     failures_page(session, now="2025-03-04T14:00:00.000Z", name="day").figures["failures"]
0
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from station.dashboard.charts import pareto_chart
from station.dashboard.source import Session
from station.dashboard.tables import RECORD_COLUMNS, Link, Page, Table, record_row
from station.dashboard.windows import Window, window
from station.gui.model.words import failure_text, step_title

PAGE_SIZE = 100  # records per drill-down page
NONE = "(none)"  # a failure without a step or code (a damaged record, or an error before any step)


@dataclass
class Group:
    step: str | None
    code: str | None
    counts: Counter[str] = field(default_factory=Counter)  # by outcome
    messages: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def reason(self) -> str:
        """The plain words the operator window showed for the most frequent message of this group."""
        message = self.messages.most_common(1)[0][0] if self.messages else ""
        return failure_text(self.step, message, self.code) if message else step_title(self.step) or NONE


def failure_groups(session: Session, span: Window, station: str | None = None) -> list[Group]:
    """FAIL and ERROR records of the window grouped by (step, code), largest first."""
    groups: dict[tuple[str | None, str | None], Group] = {}
    for step, code, message, outcome, count in _counted(session, span, station):
        group = groups.setdefault((step, code), Group(step, code))
        group.counts[outcome] += count
        if message:
            group.messages[message] += count
    return sorted(groups.values(), key=lambda g: (-g.total, g.step or "", g.code or ""))


def _counted(
    session: Session, span: Window, station: str | None
) -> list[tuple[str | None, str | None, str | None, str, int]]:
    where = "created >= ? AND created < ? AND outcome IN ('fail', 'error') AND (? IS NULL OR station_id = ?)"
    parameters = (span.start, span.end, station, station)
    if session.kind == "postgres":
        where = where.replace("(? IS NULL", "(CAST(? AS text) IS NULL")
        rows = session.rows(
            f"SELECT fail_step, fail_code, fail_message, outcome, count(*) FROM records "
            f"WHERE {where} GROUP BY 1, 2, 3, 4",
            parameters,
        )
        return [(s, c, m, o, int(n)) for s, c, m, o, n in rows]
    tally: Counter[tuple[str | None, str | None, str | None, str]] = Counter()
    for record_id, outcome, jws in session.rows(
        f"SELECT record_id, outcome, jws FROM records WHERE {where}", parameters
    ):
        facts = session.facts(record_id, (jws,))
        tally[(facts.fail_step, facts.fail_code, facts.fail_message, outcome)] += 1
    return [(*key, count) for key, count in tally.items()]


def failures_page(
    session: Session,
    *,
    now: str,
    name: str = "shift",
    start: str | None = None,
    end: str | None = None,
    station: str | None = None,
) -> Page:
    span = window(name, now=now, start=start, end=end)
    groups = failure_groups(session, span, station)
    total = sum(group.total for group in groups)
    rows, running = [], 0
    for group in groups:
        running += group.total
        rows.append(
            (
                step_title(group.step) or NONE,
                group.code or NONE,
                group.reason,
                group.counts["fail"],
                group.counts["error"],
                group.total,
                _share(group.total, total),
                _share(running, total),
                Link("records", drill_down(span, group.step, group.code, station)),
            )
        )
    by_step: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for group in groups:
        by_step[step_title(group.step) or NONE].update(group.counts)
    steps = sorted(by_step.items(), key=lambda item: -sum(item[1].values()))
    where = f" at {station}" if station else ""
    return Page(
        "Failures",
        figures={
            "window": span.label,
            "from": span.start,
            "to": span.end,
            "station": station,
            "failures": total,
            "groups": len(groups),
        },
        tables=[
            Table(
                "pareto",
                f"FAIL and ERROR by step and code{where}, {span.label}",
                (
                    "step",
                    "code",
                    "reason (as the station's window says it)",
                    "FAIL",
                    "ERROR",
                    "total",
                    "share",
                    "cumulative",
                    "drill-down",
                ),
                rows,
            ),
            Table(
                "by_step",
                "By step",
                ("step", "FAIL", "ERROR", "total", "share"),
                [
                    (s, c["fail"], c["error"], sum(c.values()), _share(sum(c.values()), total))
                    for s, c in steps
                ],
            ),
        ],
        charts=[
            pareto_chart(
                [(f"{r[0]} · {r[1]}", r[5]) for r in rows],
                title=f"Pareto of {total} failures, {span.label}",
                kinds=["error" if g.counts["error"] > g.counts["fail"] else "fail" for g in groups],
            )
        ],
    )


def drill_down(span: Window, step: str | None, code: str | None, station: str | None = None) -> str:
    query = {"from": span.start, "to": span.end, "step": step or "", "code": code or ""}
    if station:
        query["station"] = station
    return "/failures/records?" + urlencode(query)


def failure_records(
    session: Session,
    *,
    start: str,
    end: str,
    step: str | None,
    code: str | None,
    station: str | None = None,
    page: int = 1,
) -> Page:
    """One page of the FAIL/ERROR records of one Pareto bar (``None`` step or code: records without)."""
    span = window(now=end, start=start, end=end)
    where = "created >= ? AND created < ? AND outcome IN ('fail', 'error') AND (? IS NULL OR station_id = ?)"
    parameters: tuple[object, ...] = (span.start, span.end, station, station)
    offset = (max(page, 1) - 1) * PAGE_SIZE
    columns = f"created, station_id, seq, record_id, devid, mode, outcome, {session.facts_columns}"
    if session.kind == "postgres":
        where = where.replace("(? IS NULL", "(CAST(? AS text) IS NULL")
        where += " AND fail_step IS NOT DISTINCT FROM ? AND fail_code IS NOT DISTINCT FROM ?"
        found = session.rows(
            f"SELECT {columns} FROM records WHERE {where} ORDER BY created DESC, record_id LIMIT ? OFFSET ?",
            (*parameters, step, code, PAGE_SIZE + 1, offset),
        )
        rows = [(r[:7], session.facts(r[3], r[7:])) for r in found]
    else:
        found = session.rows(
            f"SELECT {columns} FROM records WHERE {where} ORDER BY created DESC, record_id", parameters
        )
        matching = [(r[:7], session.facts(r[3], r[7:])) for r in found]
        matching = [(r, f) for r, f in matching if (f.fail_step, f.fail_code) == (step, code)]
        rows = matching[offset : offset + PAGE_SIZE + 1]
    more = len(rows) > PAGE_SIZE
    table = Table(
        "records",
        f"{step_title(step) or NONE} · {code or NONE}: records, {span.label}",
        (*RECORD_COLUMNS, "reason"),
        [
            (*record_row(row), failure_text(facts.fail_step, facts.fail_message or "", facts.fail_code))
            for row, facts in rows[:PAGE_SIZE]
        ],
        note=f"page {page}" + (", more on the next page" if more else ""),
    )
    return Page(
        "Failure records", figures={"page": page, "more": more, "step": step, "code": code}, tables=[table]
    )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"
