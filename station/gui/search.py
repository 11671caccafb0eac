"""Finding records for the records view: by record id, device id or genuine id (Qt-free).

Example::

    found = find_records(store, "2023b758c209269a")     # every record of that unit, oldest first
    found = find_records(store, "")                     # the newest RECENT records
    view = check_record(store, found[0], trust)          # decoded, with its verification

A record id names one record; a device id names every record of that unit (production, QA, RMA ...); a
genuine id is looked up in the unit registry, which knows the unit's passing production record, and then
widened to every record of the same device.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.entries import StoredRecord
from station.records.sqlite import SqliteStore
from station.records.view import RecordView, record_view

RECENT = 200


@dataclass(frozen=True)
class Trust:
    """What a record is verified against: the station's signing keys and the factory CA."""

    keys: Mapping[str, Ed25519PublicKey]
    ca: x509.Certificate | None


def find_records(store: SqliteStore, text: str) -> list[StoredRecord]:
    """Records matching ``text`` (record id, devid or genuine id); the newest ``RECENT`` if empty."""
    query = text.strip()
    if not query:
        return list(deque(store.records(), maxlen=RECENT))
    found = store.get(query)
    if found is not None:
        return [found]
    by_device = list(store.records(devid=query.lower()))
    if by_device:
        return by_device
    entry = store.find_production(genuine_id=query.lower())
    if entry is None:
        return []
    return list(store.records(devid=entry.devid))


def check_record(store: SqliteStore, record: StoredRecord, trust: Trust) -> RecordView:
    """The decoded record with its signature, chain and certificate checks."""
    return record_view(store, record, trusted_keys=trust.keys, ca_certificate=trust.ca)
