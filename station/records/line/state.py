"""The station's side of the sync: which of its records reached the line database, and which were refused.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     store = SqliteStore(f"{folder}/records.sqlite3")
...     summary(store), pending(store), status(store, "line1-st01", 1)       # no row: not sent yet
(SyncSummary(sent=0, refused=0, unsent=0), False, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from station.records.entries import StoredRecord
from station.records.store.sqlite import SqliteStore, stored_record

SENT = "sent"
REFUSED = "refused"
_UPSERT = (
    "INSERT INTO sync_state (station_id, seq, state, reason, at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (station_id, seq) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
    "at = excluded.at WHERE sync_state.state <> 'sent'"
)
_UNSENT = (
    "SELECT r.station_id, r.seq, r.record_id, r.devid, r.genuine_id, r.mode, r.outcome, r.created, r.jws "
    "FROM records r LEFT JOIN sync_state s ON s.station_id = r.station_id AND s.seq = r.seq "
    "WHERE r.station_id = ? AND r.seq > ? AND r.seq <= ? AND (s.state IS NULL OR s.state <> 'sent') "
    "ORDER BY r.seq LIMIT ?"
)
_RANGE = (
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE station_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True)
class Mark:
    station_id: str
    seq: int
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class SyncStatus:
    state: str
    reason: str | None
    at: str


@dataclass(frozen=True)
class SyncSummary:
    sent: int
    refused: int
    unsent: int


def mark(store: SqliteStore, marks: Iterable[Mark]) -> None:
    """Note what the line database did with these records, in one durable transaction."""
    at = store.now()
    rows = [(m.station_id, m.seq, m.state, m.reason, at) for m in marks]
    if rows:
        with store.write() as connection:
            connection.executemany(_UPSERT, rows)


def status(store: SqliteStore, station_id: str, seq: int) -> SyncStatus | None:
    """The record's sync state, or None if it has not been sent yet."""
    with store.connect() as connection:
        row = connection.execute(
            "SELECT state, reason, at FROM sync_state WHERE station_id = ? AND seq = ?", (station_id, seq)
        ).fetchone()
    return None if row is None else SyncStatus(*row)


def summary(store: SqliteStore, station_id: str | None = None) -> SyncSummary:
    """How many records are sent, refused, and not sent yet (of one station, or all)."""
    with store.connect() as connection:
        (total,) = connection.execute(
            "SELECT COUNT(*) FROM records WHERE ?1 IS NULL OR station_id = ?1", (station_id,)
        ).fetchone()
        counts = dict(
            connection.execute(
                "SELECT state, COUNT(*) FROM sync_state WHERE ?1 IS NULL OR station_id = ?1 GROUP BY state",
                (station_id,),
            ).fetchall()
        )
    sent, refused = counts.get(SENT, 0), counts.get(REFUSED, 0)
    return SyncSummary(sent=sent, refused=refused, unsent=total - sent - refused)


def unsent_up_to(
    store: SqliteStore, station_id: str, after: int, upto: int, limit: int
) -> list[StoredRecord]:
    """Records of ``station_id`` with ``after < seq <= upto`` not marked sent, in chain order."""
    with store.connect() as connection:
        rows = connection.execute(_UNSENT, (station_id, after, upto, limit)).fetchall()
    return [stored_record(row) for row in rows]


def records_after(store: SqliteStore, station_id: str, after: int, limit: int) -> list[StoredRecord]:
    """Up to ``limit`` records of ``station_id`` following ``seq = after``, in chain order."""
    with store.connect() as connection:
        rows = connection.execute(_RANGE, (station_id, after, limit)).fetchall()
    return [stored_record(row) for row in rows]


def pending(store: SqliteStore) -> bool:
    """True when some record is not marked sent (cheap: two counts), so a sync has work to do."""
    return unsent_count(store) != 0


def unsent_count(store: SqliteStore) -> int:
    """How many records are not marked sent yet: kept here until the line database has them."""
    with store.connect() as connection:
        (total,) = connection.execute("SELECT COUNT(*) FROM records").fetchone()
        (sent,) = connection.execute("SELECT COUNT(*) FROM sync_state WHERE state = 'sent'").fetchone()
    return int(total) - int(sent)
