"""A unit's history across record stores, and which record supersedes which (RMA; docs/records.md).

>>> rows = [StoredRecord("line1-st01", n, f"rec-{n}", "2023b758c209269a", None, mode, outcome,
...                      f"2025-01-0{n}T08:00:00.000Z", jws="", payload={})
...         for n, mode, outcome in [(1, "production", "pass"), (2, "rma", "fail"), (3, "qa", "pass")]]
>>> current_record(rows).record_id          # the newest passing production/RMA record; QA only checks
'rec-1'
"""

from __future__ import annotations

from collections.abc import Iterable

from station.records.entries import StoredRecord
from station.records.model import Links
from station.records.store import RecordStore

STATE_MODES = ("production", "rma")  # records that describe what a unit is (QA records only check it)


def unit_history(
    stores: Iterable[RecordStore], *, devid: str | None, genuine_id: str | None
) -> list[StoredRecord]:
    """Every record of the unit in ``stores`` (each once), oldest first by ``finished``.

    A secure element seen on a board widens the search to that board's ``devid``: a repaired board
    carries a new secure element under its old devid, and both belong to one history.
    """
    found: dict[str, StoredRecord] = {}
    for store in stores:
        for record in _of_unit(store, devid, genuine_id):
            found.setdefault(record.record_id, record)
    return sorted(found.values(), key=_age)


def current_record(records: Iterable[StoredRecord]) -> StoredRecord | None:
    """The newest passing production or RMA record: what the unit was last made into.

    Newest by ``finished``, then as ``unit_history`` orders (so the answer never depends on the order
    ``records`` come in, e.g. newest first in ``records show``).
    """
    state = [record for record in records if record.outcome == "pass" and record.mode in STATE_MODES]
    return max(state, key=_age, default=None)


def superseded_by(store: RecordStore, record_id: str) -> StoredRecord | None:
    """The passing record in ``store`` whose ``links.supersedes`` names ``record_id``, or None."""
    record = store.get(record_id)
    if record is None or (record.devid is None and record.genuine_id is None):
        return None
    for other in store.records_of_unit(devid=record.devid, genuine_id=record.genuine_id):
        if other.outcome == "pass" and links_of(other).supersedes == record_id:
            return other
    return None


def links_of(record: StoredRecord) -> Links:
    """The record's signed links; none when its payload is unreadable (``records verify`` reports it)."""
    parsed = record.readable
    return Links() if parsed is None else parsed.links


def _of_unit(store: RecordStore, devid: str | None, genuine_id: str | None) -> list[StoredRecord]:
    if devid is None and genuine_id is None:
        return []
    records = store.records_of_unit(devid=devid, genuine_id=genuine_id)
    boards = {record.devid for record in records if record.devid and record.devid != devid}
    for board in sorted(boards):
        records += store.records_of_unit(devid=board)
    return records


def _age(record: StoredRecord) -> tuple[str, str, int]:
    return record.finished, record.station_id, record.seq  # RFC 3339 UTC text sorts as time
