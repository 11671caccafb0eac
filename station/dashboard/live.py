"""Live updates as server-sent events: new records within a poll of the sync, and a tick for silent stations.

>>> print(event("records", [{"record_id": "rec-1"}]), end="")
event: records
data: [{"record_id": "rec-1"}]
<BLANKLINE>
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread

from station.core.errors import RecordError
from station.dashboard.source import Session, Source

POLL = 1.0  # seconds between two looks at the database, per open page
TICK = 15.0  # seconds: pages refresh anyway, so a station that stopped syncing turns silent by itself
MOST_STREAMS = 64  # open pages at once; more get 503 (each polls the database)
NEWEST = 50  # records one event carries at most


def event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(', ', ': '))}\n\n"


def watermark(session: Session) -> str:
    """Changes whenever a record arrives: the newest ``received_at`` (line) or rowid (a station's store)."""
    if session.kind == "postgres":
        return str(session.rows("SELECT COALESCE(CAST(max(received_at) AS text), '') FROM records", ())[0][0])
    return str(session.rows("SELECT COALESCE(max(rowid), 0) FROM records", ())[0][0])


def arrived(session: Session, mark: str) -> list[dict[str, Any]]:
    """Records that arrived after ``mark``, oldest first, at most ``NEWEST``."""
    columns = "created, station_id, seq, record_id, devid, mode, outcome"
    if session.kind == "postgres":
        rows = session.rows(
            f"SELECT {columns} FROM records WHERE received_at > CAST(? AS timestamptz) "
            "ORDER BY received_at, station_id, seq LIMIT ?",
            (mark or "-infinity", NEWEST),
        )
    else:
        rows = session.rows(
            f"SELECT {columns} FROM records WHERE rowid > ? ORDER BY rowid LIMIT ?", (int(mark), NEWEST)
        )
    names = columns.split(", ")
    return [dict(zip(names, row, strict=True)) for row in rows]


class Streams:
    """Counts open event streams, so a crowd of pages cannot exhaust the database's connections."""

    def __init__(self, most: int = MOST_STREAMS) -> None:
        self.most, self.open = most, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.most:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


async def events(
    source: Source, streams: Streams, *, poll: float = POLL, tick: float = TICK
) -> AsyncIterator[str]:
    """The event stream of one open page (``streams`` already taken; given back when the page goes)."""
    try:

        def look(mark: str | None) -> tuple[str, list[dict[str, Any]]]:
            with source.session() as session:
                now = watermark(session)
                return now, ([] if mark is None or now == mark else arrived(session, mark))

        mark, _ = await anyio.to_thread.run_sync(look, None)
        yield "retry: 2000\n\n"
        quiet_since = time.monotonic()
        while True:
            await anyio.sleep(poll)
            try:
                now, records = await anyio.to_thread.run_sync(look, mark)
            except RecordError:
                yield event("trouble", {"message": "the database does not answer; retrying"})
                continue
            if now != mark:
                mark = now
                yield event("records", records)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= tick:
                yield event("tick", {})
                quiet_since = time.monotonic()
    finally:
        streams.give_back()
