"""What every record store offers readers: the station's SQLite file and the line's PostgreSQL database.

>>> open_store("postgresql://station:s3cret@127.0.0.1/line")      # connects when a call needs it
PostgresStore('postgresql://station:***@127.0.0.1/line')
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     open_store(f"{folder}/records.sqlite3", create=True).stations()    # the same reader interface
[]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from station.records.entries import RegistryEntry, StoredRecord


class RecordStore(Protocol):
    """Lookups over stored records and the unit registry."""

    def get(self, record_id: str) -> StoredRecord | None:
        """The record with this id, or None."""
        ...

    def last(self, station_id: str) -> StoredRecord | None:
        """The station's newest record (highest ``seq``), or None before its first."""
        ...

    def at(self, station_id: str, seq: int) -> StoredRecord | None:
        """The station's record number ``seq``, or None."""
        ...

    def records(self, station_id: str | None = None, devid: str | None = None) -> Iterator[StoredRecord]:
        """Records in chain order (station, then seq), optionally of one station and/or one unit."""
        ...

    def stations(self) -> list[str]:
        """Ids of every station with records in this store, sorted."""
        ...

    def records_of_unit(self, devid: str | None = None, genuine_id: str | None = None) -> list[StoredRecord]:
        """Every record whose ``devid`` or ``genuine_id`` matches (either), in chain order (indexed)."""
        ...

    def records_of_instance(self, eid: str) -> list[StoredRecord]:
        """Every record whose payload names ``eid`` as its unit's instance, in chain order (a text scan)."""
        ...

    def find_production(
        self, devid: str | None = None, genuine_id: str | None = None
    ) -> RegistryEntry | None:
        """The registry entry of the unit with this ``devid`` or this ``genuine_id`` (either matches)."""
        ...

    def registry_entries(self) -> list[RegistryEntry]:
        """Every unit registry entry."""
        ...

    def integrity(self) -> str | None:
        """What the database itself finds damaged, or None."""
        ...


def open_store(target: str, *, create: bool = False) -> RecordStore:
    """A reader for ``target``: a PostgreSQL URL (the line database) or a SQLite store file."""
    from station.records.store.migrate import is_url

    if is_url(target):
        from station.records.store.postgres import PostgresStore

        return PostgresStore(target)
    from station.records.store.sqlite import SqliteStore

    return SqliteStore(target, create=create)
