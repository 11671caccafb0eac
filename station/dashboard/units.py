"""The unit page: one unit's whole history (by devid, genuine id, record id or reader DeviceId), verified.

>>> import tempfile
>>> from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     unit_page(session, "2023b758c209269a").figures["found"]
0
"""

from __future__ import annotations

from typing import Any

from station.dashboard.source import Session
from station.dashboard.tables import Link, Mark, Page, Table, outcome_mark
from station.records.entries import StoredRecord
from station.records.history import current_record, unit_history
from station.records.view import RecordView, record_view

LONGEST_QUERY = 200  # characters of a search; ids are far shorter
MOST_RECORDS = 200  # records of one unit a page shows (a unit has a handful)


def find_records(session: Session, query: str) -> tuple[list[StoredRecord], bool]:
    """The records ``query`` names, oldest first, and whether it was a record id (one record)."""
    query = query.strip()[:LONGEST_QUERY]
    if not query:
        return [], False
    store = session.store
    found = store.get(query)
    if found is not None:
        return [found], True
    return unit_history([store], devid=query, genuine_id=query)[:MOST_RECORDS], False


def verified(session: Session, records: list[StoredRecord]) -> list[RecordView]:
    """Each record checked in this request, as ``station records show`` checks it."""
    keys = session.source.trusted_keys(session)
    return [record_view(session.store, record, trusted_keys=keys) for record in records]


def check_mark(view: RecordView) -> Mark:
    return Mark("pass", "✓", "verified") if view.checks.ok else Mark("fail", "✗", "FAILED")


def unit_page(session: Session, query: str) -> Page:
    records, by_id = find_records(session, query)
    views = verified(session, records)
    current = None if by_id else current_record(records)
    rows = [
        (
            view.finished or "",
            view.station,
            view.seq,
            Link(view.record_id, f"/record/{view.record_id}"),
            view.mode,
            outcome_mark(view.outcome),
            check_mark(view),
            view.checks.signature,
            view.checks.chain,
            view.checks.certificate,
            "current" if current is not None and current.record_id == view.record_id else "",
            Link(view.superseded_by, f"/record/{view.superseded_by}") if view.superseded_by else "",
        )
        for view in views
    ]
    unit = views[-1].unit if views else {}
    return Page(
        "Unit",
        figures={
            "query": query.strip()[:LONGEST_QUERY],
            "found": len(views),
            "verified": sum(view.checks.ok for view in views),
            "current": None if current is None else current.record_id,
            "unit": _plain(unit),
        },
        tables=[
            Table(
                "history",
                "History (oldest first), each record verified now",
                (
                    "finished",
                    "station",
                    "seq",
                    "record",
                    "mode",
                    "outcome",
                    "check",
                    "signature",
                    "chain",
                    "certificate",
                    "state",
                    "superseded by",
                ),
                rows,
                note="current: the newest passing production or RMA record, what the unit was last made into",
            )
        ],
    )


def record_page(session: Session, record_id: str) -> Page | None:
    record = session.store.get(record_id[:LONGEST_QUERY])
    if record is None:
        return None
    view = verified(session, [record])[0]
    facts = [
        ("record", view.record_id),
        ("station", view.station),
        ("seq", view.seq),
        ("mode", view.mode),
        ("outcome", outcome_mark(view.outcome)),
        ("simulated unit", "yes" if view.simulated else "no"),
        ("started", view.started),
        ("finished", view.finished),
        ("check", check_mark(view)),
        ("signature", view.checks.signature),
        ("chain", view.checks.chain),
        ("certificate", view.checks.certificate),
        ("line database", view.line),
        ("superseded by", view.superseded_by or ""),
        ("operator", view.operator.get("id", "")),
        ("fixture", view.fixture.get("slot", "")),
    ]
    if view.failure:
        facts += [
            ("failure step", view.failure.get("step", "")),
            ("failure code", view.failure.get("code", "")),
            ("failure message", view.failure.get("message", "")),
        ]
    unit: list[tuple[str, Any]] = [
        (name, "" if value is None else str(value)) for name, value in view.unit.items()
    ]
    devid = view.unit.get("devid") or view.unit.get("device_id")
    if devid:
        unit.insert(0, ("history", Link("whole history of this unit", f"/unit?q={devid}")))
    steps = [
        (
            s.name,
            outcome_mark(s.outcome),
            s.attempts,
            s.started,
            "" if s.seconds is None else f"{s.seconds:.2f}",
        )
        for s in view.steps
    ]
    personal = [(name, str(value)) for name, value in (view.personalization or {}).items()]
    personal += [("sealed secret (name only)", name) for name in view.sealed_secrets]
    return Page(
        f"Record {view.record_id}",
        figures={
            "record_id": view.record_id,
            "verified": view.checks.ok,
            "check": "✓ verified" if view.checks.ok else "✗ FAILED",
        },
        tables=[
            Table("record", "Record", ("field", "value"), facts),
            Table("unit", "Unit", ("field", "value"), unit),
            Table("steps", "Steps", ("step", "outcome", "attempts", "started", "seconds"), steps),
            Table("personalization", "Personalisation (public values)", ("field", "value"), personal),
        ],
    )


def _plain(values: Any) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in dict(values).items()}
