"""Tables every page shows, the JSON API returns and ``.csv`` downloads: one shape, three renderings.

>>> table = Table("t", "Example", ("record", "outcome"), [(Link("rec-1", "/record/rec-1"), "=1+1")])
>>> print(to_csv(table), end="")
record,outcome
rec-1,'=1+1
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


@dataclass(frozen=True)
class Link:
    """A cell that links to another page (the text alone in JSON and CSV)."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Mark:
    """A state or outcome cell: ``key`` picks the colour, ``mark`` is the second cue, ``text`` the word."""

    key: str
    mark: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    name: str  # the CSV file name and the JSON key
    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)
    note: str = ""  # what the table counts, or that it was cut to a page


def plain(cell: Any) -> Any:
    """A cell as JSON holds it: links and marks as their text."""
    return str(cell) if isinstance(cell, (Link, Mark)) else cell


def to_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        "columns": list(table.columns),
        "rows": [dict(zip(table.columns, map(plain, row), strict=True)) for row in table.rows],
        "note": table.note,
    }


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


RECORD_COLUMNS = ("at", "station", "seq", "record", "unit", "mode", "outcome")


def record_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """One record as the tables of records show it (``RECORD_COLUMNS``): links to the record and its unit.

    ``row``: at, station, seq, record id, devid (or none), mode, outcome, as the queries select them.
    """
    at, station, seq, record_id, devid, mode, outcome = row
    return (
        at,
        station,
        seq,
        Link(record_id, f"/record/{record_id}"),
        Link(devid, f"/unit?q={devid}") if devid else "",
        mode,
        outcome_mark(outcome),
    )


def outcome_mark(outcome: str) -> Mark:
    """PASS/FAIL/ERROR/ABORTED with a symbol besides the colour (as the operator window shows them)."""
    marks = {"pass": "✓", "fail": "✗", "error": "!", "aborted": "-"}
    return Mark(outcome if outcome in marks else "unknown", marks.get(outcome, "?"), outcome.upper())


@dataclass
class Page:
    """What one page shows: key figures, tables and server-drawn charts (SVG text, HTML only)."""

    title: str
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, **self.figures, "tables": {t.name: to_json(t) for t in self.tables}}
