"""Values read back from a record store: stored records, registry entries, runs and journal lines.

>>> row = StoredRecord("line1-st01", 7, "rec-7", devid=None, genuine_id=None, mode="qa", outcome="pass",
...                    created="2025-01-02T03:04:05.678Z", jws="a.b.c", payload={"schema": "edited by hand"})
>>> row.readable, row.finished             # a damaged row still lists, by its stored columns
(None, '2025-01-02T03:04:05.678Z')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from station.core.errors import RecordError
from station.records.payload import RecordPayload


@dataclass(frozen=True)
class StoredRecord:
    """One row of ``records``: the columns, the signed text and its (unverified) payload."""

    station_id: str
    seq: int
    record_id: str
    devid: str | None
    genuine_id: str | None
    mode: str
    outcome: str
    created: str
    jws: str
    payload: Mapping[str, Any]

    @cached_property
    def parsed(self) -> RecordPayload:
        """The payload as typed fields (unverified, like ``payload``); RecordError names a malformed field."""
        return RecordPayload.parse(self.payload, what=f"record {self.record_id}")

    @property
    def readable(self) -> RecordPayload | None:
        """``parsed``, or None when the payload is damaged (``station records verify`` says how)."""
        try:
            return self.parsed
        except RecordError:
            return None

    @property
    def finished(self) -> str:
        """When the run ended, RFC 3339 UTC text (sorts as time); the row's ``created`` if unreadable."""
        parsed = self.readable
        return self.created if parsed is None else parsed.finished


@dataclass(frozen=True)
class RegistryEntry:
    """The one passing production record of a unit."""

    devid: str
    genuine_id: str
    station_id: str
    seq: int
    record_id: str
    provisioned_at: str


@dataclass(frozen=True)
class Run:
    """A unit's pass through a pipeline; ``open`` until its record is written (or it is resolved)."""

    run_id: str
    slot: str
    mode: str
    devid: str | None
    state: str
    started: str
    updated: str
    record_id: str | None


@dataclass(frozen=True)
class JournalEntry:
    """One durable line of a run's journal: ``phase`` is e.g. "intent" before a device write, "done" after."""

    run_id: str
    n: int
    step: str
    phase: str
    detail: Mapping[str, Any]
    at: str
