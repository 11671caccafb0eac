"""Appending signed records to a station's chain: one transaction, durable when ``append`` returns.

>>> import tempfile; from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> with tempfile.TemporaryDirectory() as folder:          # a record's kid must name the key that signs it
...     store, key = SqliteStore(f"{folder}/records.sqlite3"), Ed25519PrivateKey.generate()
...     RecordWriter(store, key, "0123456789abcdef", "line1-st01", config_sha256="0" * 64)
Traceback (most recent call last):
station.core.errors.RecordError: key id '0123456789abcdef' does not name the station's signing key
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any

from station.core.errors import RecordError
from station.records import jws
from station.records.entries import StoredRecord
from station.records.head import RECORDS, ChainHead, HeadFile, HeadKeeper, head_path
from station.records.model import (
    GENESIS_PREV,
    SOFTWARE,
    RecordDraft,
    StationInfo,
    build_payload,
    chain_hash,
)
from station.records.payload import RecordPayload
from station.records.store.journal import close_run_in
from station.records.store.sqlite import SqliteStore, find_production_in

_INSERT_RECORD = (
    "INSERT INTO records (station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_REGISTRY = (
    "INSERT INTO unit_registry (devid, genuine_id, station_id, seq, record_id, provisioned_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


class RecordWriter:
    """Signs drafts with the station key and appends them to the station's chain in ``store``."""

    def __init__(
        self,
        store: SqliteStore,
        key: jws.Signer,
        key_id: str,
        station_id: str,
        *,
        config_sha256: str,
        software: str = SOFTWARE,
    ) -> None:
        if jws.key_id(key.public_key()) != key_id:
            raise RecordError(f"key id {key_id!r} does not name the station's signing key")
        if not station_id:
            raise RecordError("station id is empty")
        self.store = store
        self._key = key
        self.station = StationInfo(
            id=station_id, software=software, config_sha256=config_sha256, key_id=key_id
        )
        head_file = HeadFile(head_path(store.path, RECORDS), RECORDS)
        self.head = HeadKeeper(
            head_file, station_id, key, key_id, entries="records", command="station records verify"
        )
        with store.write() as connection:  # a missing or lagging head file is written now, and logged
            self._anchor(connection, self._newest(connection), opening=True)

    def __repr__(self) -> str:
        return (
            f"RecordWriter(station={self.station.id!r}, key_id={self.station.key_id!r}, store={self.store!r})"
        )

    def append(self, draft: RecordDraft, *, run_id: str | None = None) -> StoredRecord:
        """Sign ``draft`` as the station's next record and store it durably; close ``run_id`` if given."""
        with self.store.write() as connection:
            seq, prev = self._next_link(connection)
            payload = build_payload(
                draft, station=self.station, seq=seq, prev=prev, record_id=str(uuid.uuid4())
            )
            record = RecordPayload.parse(payload)
            self._check_registry(connection, record)
            text = jws.sign(payload, self._key, self.station.key_id)
            stored = self._insert(connection, payload, record, text)
            if run_id is not None:
                close_run_in(connection, run_id, stored.record_id, stored.created)
            self._anchor(connection, ChainHead(stored.seq, chain_hash(text)))
        return stored

    def _anchor(
        self, connection: sqlite3.Connection, newest: ChainHead | None, *, opening: bool = False
    ) -> None:
        """Have the head file name ``newest`` once this transaction commits (after it: never ahead)."""

        def sha256_at(seq: int) -> str | None:
            row = connection.execute(
                "SELECT jws FROM records WHERE station_id = ? AND seq = ?", (self.station.id, seq)
            ).fetchone()
            return None if row is None else chain_hash(row[0])

        write = self.head.prepare(newest, sha256_at, opening=opening)
        if write is not None:
            self.store.after_commit(connection, write)

    def _newest(self, connection: sqlite3.Connection) -> ChainHead | None:
        seq, prev = self._next_link(connection)
        return None if seq == 1 else ChainHead(seq - 1, prev)

    def _next_link(self, connection: sqlite3.Connection) -> tuple[int, str]:
        row = connection.execute(
            "SELECT seq, jws FROM records WHERE station_id = ? ORDER BY seq DESC LIMIT 1", (self.station.id,)
        ).fetchone()
        if row is None:
            return 1, GENESIS_PREV
        return int(row[0]) + 1, chain_hash(row[1])

    def _check_registry(self, connection: sqlite3.Connection, record: RecordPayload) -> None:
        if not record.production_pass:
            return
        devid, genuine_id = record.index_ids
        earlier = find_production_in(connection, devid, genuine_id)
        if earlier is not None:
            raise RecordError(
                f"unit devid {devid} (genuine_id {genuine_id}) already has a passing "
                f"production record: station {earlier.station_id}, seq {earlier.seq}, "
                f"record {earlier.record_id}"
            )

    def _insert(
        self, connection: sqlite3.Connection, payload: Mapping[str, Any], record: RecordPayload, text: str
    ) -> StoredRecord:
        devid, genuine_id = record.index_ids
        stored = StoredRecord(
            station_id=self.station.id,
            seq=record.seq,
            record_id=record.record_id,
            devid=devid,
            genuine_id=genuine_id,
            mode=record.mode,
            outcome=record.outcome,
            created=self.store.now(),
            jws=text,
            payload=payload,
        )
        try:
            connection.execute(
                _INSERT_RECORD,
                (
                    stored.station_id,
                    stored.seq,
                    stored.record_id,
                    stored.devid,
                    stored.genuine_id,
                    stored.mode,
                    stored.outcome,
                    stored.created,
                    stored.jws,
                ),
            )
            if record.production_pass:
                connection.execute(
                    _INSERT_REGISTRY,
                    (
                        stored.devid,
                        stored.genuine_id,
                        stored.station_id,
                        stored.seq,
                        stored.record_id,
                        record.finished,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise RecordError(f"record store refused record seq {stored.seq}: {exc}") from None
        return stored
