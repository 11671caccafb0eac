"""Finding records for the records view: by record id, device id or genuine id (Qt-free).

>>> import tempfile; from pathlib import Path; from station.records.store import open_store
>>> with tempfile.TemporaryDirectory() as folder:                  # an empty store, either kind
...     store = open_store(str(Path(folder) / "records.sqlite3"), create=True)
...     find_records(store, "2023b758c209269a"), find_records(store, "")     # "": the newest records
([], [])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.gui.model.verdicts import shorten_ids
from station.records.entries import StoredRecord
from station.records.history import links_of, superseded_by
from station.records.store import RecordStore
from station.records.view import RecordView, record_view

NEWEST_LISTED = 200  # records the search lists when nothing is typed (the newest first)


@dataclass(frozen=True)
class Trust:
    """What a record is verified against: the station's signing keys and the factory CA."""

    keys: Mapping[str, Ed25519PublicKey]
    ca: x509.Certificate | None


def find_records(store: RecordStore, text: str) -> list[StoredRecord]:
    """Records matching ``text`` (record id, devid or genuine id); the newest ``NEWEST_LISTED`` if empty."""
    query = text.strip()
    if not query:
        return list(deque(store.records(), maxlen=NEWEST_LISTED))
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


def check_record(store: RecordStore, record: StoredRecord, trust: Trust) -> RecordView:
    """The decoded record with its signature, chain and certificate checks."""
    return record_view(store, record, trusted_keys=trust.keys, ca_certificate=trust.ca)


def record_notes(store: RecordStore, records: list[StoredRecord]) -> dict[str, str]:
    """How each listed record links to others, in a few words (records without links are left out)."""
    notes = {}
    for record in records:
        parts = []
        newer = superseded_by(store, record.record_id) if record.outcome == "pass" else None
        if newer is not None:
            parts.append(f"SUPERSEDED by {newer.record_id}")
        links = links_of(record)
        if links.supersedes:
            parts.append(f"supersedes {links.supersedes}")
        if links.verifies:
            parts.append(f"checks {links.verifies}")
        if parts:
            notes[record.record_id] = shorten_ids("; ".join(parts))
    return notes
