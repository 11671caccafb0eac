"""The line database's side of the sync: register a station's key, take a verified batch, note conflicts.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> line = PostgresStore("postgresql://station@127.0.0.1:1/line", connect_timeout=1)   # down: port 1
>>> register_station(line, "line1-st01", Ed25519PrivateKey.generate().public_key())
Traceback (most recent call last):
station.core.errors.RecordError: line database postgresql://station@127.0.0.1:1/line: ...
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.check.chain import RecordFacts
from station.records.entries import StoredRecord
from station.records.jws import key_id
from station.records.store.postgres import Connection, PostgresStore, public_key_of, public_key_text

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('station-sync:' || %s))"
# The columns go as binary arrays (%b): as text, every element would be scanned and quoted, which costs
# more than the rest of the insert for a batch of signed records.
_INSERT_RECORDS = (
    "INSERT INTO records (station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws) "
    "SELECT * FROM unnest(%b::text[], %b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[]) "
    "AS t(station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws) "
    "ORDER BY seq ON CONFLICT (station_id, seq) DO NOTHING RETURNING seq"
)
_INSERT_REGISTRY = (
    "INSERT INTO unit_registry (devid, genuine_id, station_id, seq, record_id, provisioned_at) "
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[]) "
    "ON CONFLICT DO NOTHING RETURNING record_id"
)
_INSERT_CONFLICT = (
    "INSERT INTO sync_conflicts (station_id, seq, kind, detail, jws, jws_sha256) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


@dataclass
class Pushed:
    """What the line did with a batch: newly inserted seqs, seqs it already held identically, the first
    record it holds differently (nothing at or after it was inserted), duplicate-unit notes, and the
    first record the line refuses to take (a simulated unit's on a line that is not a test line)."""

    inserted: list[int] = field(default_factory=list)
    identical: list[int] = field(default_factory=list)
    different: StoredRecord | None = None
    duplicate_units: list[str] = field(default_factory=list)
    refused: tuple[StoredRecord, str] | None = None  # a record the line will not take (nothing after it)


def register_station(
    line: PostgresStore, station_id: str, public_key: Ed25519PublicKey
) -> dict[str, Ed25519PublicKey]:
    """The station's registered keys; ``public_key`` is registered if the station has none yet."""
    with line.connect() as connection, connection.transaction():
        connection.execute(_LOCK, (station_id,))
        connection.execute(
            "INSERT INTO stations (station_id, key_id, public_key) SELECT %s, %s, %s "
            "WHERE NOT EXISTS (SELECT 1 FROM stations WHERE station_id = %s)",
            (station_id, key_id(public_key), public_key_text(public_key), station_id),
        )
        rows = connection.execute(
            "SELECT key_id, public_key FROM stations WHERE station_id = %s", (station_id,)
        ).fetchall()
    return {kid: public_key_of(kid, text) for kid, text in rows}


def push_batch(
    line: PostgresStore,
    station_id: str,
    records: list[StoredRecord],
    facts: Mapping[int, RecordFacts] | None = None,
) -> Pushed:
    """Insert the records the line lacks, in one transaction; compare those it already holds.

    ``facts``: what verifying the records read from their signed payloads, by seq (the sync has them);
    without them a record's payload is parsed again where its end time or simulated flag is needed.
    """
    known: Mapping[int, RecordFacts] = {} if facts is None else facts
    pushed = Pushed()
    with line.connect() as connection, connection.transaction():
        connection.execute(_LOCK, (station_id,))
        held = dict(
            connection.execute(
                "SELECT seq, jws FROM records WHERE station_id = %s AND seq BETWEEN %s AND %s",
                (station_id, records[0].seq, records[-1].seq),
            ).fetchall()
        )
        fresh: list[StoredRecord] = []
        for record in records:
            text = held.get(record.seq)
            if text is None:
                fresh.append(record)
            elif text == record.jws:
                pushed.identical.append(record.seq)
            else:
                pushed.different = record
                return pushed  # leaving the block commits nothing: no row was written
        if fresh and not is_test_line(connection):
            fresh = _before_simulated(fresh, known, pushed)
        if fresh:
            pushed.inserted = _insert_records(connection, fresh)
            inserted = set(pushed.inserted)
            passing = [r for r in fresh if r.seq in inserted and _production_pass(r)]
            pushed.duplicate_units = _register_units(connection, passing, known)
    return pushed


def report_conflict(line: PostgresStore, record: StoredRecord, kind: str, detail: str) -> None:
    """Note a refused or conflicting record in ``sync_conflicts`` (once per distinct record and kind)."""
    with line.connect() as connection:
        _conflict(connection, record, kind, detail)


def _insert_records(connection: Connection, records: list[StoredRecord]) -> list[int]:
    columns: list[list[Any]] = [
        [r.station_id for r in records],
        [r.seq for r in records],
        [r.record_id for r in records],
        [r.devid for r in records],
        [r.genuine_id for r in records],
        [r.mode for r in records],
        [r.outcome for r in records],
        [r.created for r in records],
        [r.jws for r in records],
    ]
    return sorted(row[0] for row in connection.execute(_INSERT_RECORDS, columns).fetchall())


def _register_units(
    connection: Connection, records: list[StoredRecord], facts: Mapping[int, RecordFacts]
) -> list[str]:
    """Registry rows for passing production records; a unit registered before is reported, not hidden."""
    if not records:
        return []
    columns: list[list[Any]] = [
        [r.devid for r in records],
        [r.genuine_id for r in records],
        [r.station_id for r in records],
        [r.seq for r in records],
        [r.record_id for r in records],
        [_finished(r, facts) for r in records],
    ]
    registered = {row[0] for row in connection.execute(_INSERT_REGISTRY, columns).fetchall()}
    notes = []
    for record in records:
        if record.record_id in registered:
            continue
        earlier = connection.execute(
            "SELECT station_id, seq, record_id FROM unit_registry WHERE devid = %s OR genuine_id = %s "
            "ORDER BY provisioned_at LIMIT 1",
            (record.devid, record.genuine_id),
        ).fetchone()
        note = (
            f"unit devid {record.devid} (genuine_id {record.genuine_id}): passing production record "
            f"{record.record_id} of station {record.station_id} seq {record.seq}, but the line registry "
            f"already names station {earlier[0] if earlier else '?'} seq {earlier[1] if earlier else '?'} "
            f"record {earlier[2] if earlier else '?'}"
        )
        _conflict(connection, record, "duplicate-unit", note)
        notes.append(note)
    return notes


def _conflict(connection: Connection, record: StoredRecord, kind: str, detail: str) -> None:
    digest = hashlib.sha256(record.jws.encode("utf-8")).hexdigest()
    connection.execute(_INSERT_CONFLICT, (record.station_id, record.seq, kind, detail, record.jws, digest))


def is_test_line(connection: Connection) -> bool:
    """Whether the line database is marked a test line (``line_settings``; docs/line-database.md)."""
    row = connection.execute("SELECT value FROM line_settings WHERE name = 'test_line'").fetchone()
    return row is not None and row[0] == "true"


def _before_simulated(
    records: list[StoredRecord], facts: Mapping[int, RecordFacts], pushed: Pushed
) -> list[StoredRecord]:
    """The records before the first simulated unit's, which ``pushed.refused`` then names."""
    for index, record in enumerate(records):
        if _simulated(record, facts):
            pushed.refused = (
                record,
                "the record is of a simulated unit and this line database is not a test line; a test "
                "line takes them after `station records migrate --test-line` (docs/line-database.md)",
            )
            return records[:index]
    return records


def _finished(record: StoredRecord, facts: Mapping[int, RecordFacts]) -> str:
    """When the record's run ended, from its verified facts if given (no second parse of the payload)."""
    known = facts.get(record.seq)
    return record.finished if known is None else known.finished


def _simulated(record: StoredRecord, facts: Mapping[int, RecordFacts]) -> bool:
    """Whether the record is of a simulated unit, from its verified facts if given."""
    known = facts.get(record.seq)
    if known is not None:
        return known.simulated
    parsed = record.readable  # verified by the sync before it is pushed
    return parsed is not None and parsed.simulated


def _production_pass(record: StoredRecord) -> bool:
    return record.mode == "production" and record.outcome == "pass"
