"""A station's link to its line database: the cross-station unit lookup and the background sync thread.

>>> import tempfile; from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> with tempfile.TemporaryDirectory() as folder:                 # a line database that is down (port 1)
...     link = LineLink(SqliteStore(f"{folder}/records.sqlite3"), "postgresql://station@127.0.0.1:1/line",
...                     Ed25519PrivateKey.generate().public_key())
...     link.find_production(genuine_id="0123eb561f5ea073ee"), link.sync_now()    # production carries on
(None, None)
"""

from __future__ import annotations

import logging
import threading
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.core.events import Event, EventBus, LineSynced, LogLine, RunFinished
from station.records.entries import RegistryEntry
from station.records.line import state as syncstate
from station.records.line.sync import DEFAULT_BATCH, SyncReport, sync
from station.records.store.postgres import PostgresStore
from station.records.store.sqlite import SqliteStore

log = logging.getLogger(__name__)
SLOT = "line"
INTERVAL = 5.0  # seconds between syncs when no unit finishes meanwhile
LOOKUP_TIMEOUT = 3.0  # a unit lookup waits at most this long for a line database that does not answer
STOP_TIMEOUT = 60.0


class LineLink:
    """Local-then-line unit lookups, and a thread that pushes unsent records to the line database."""

    def __init__(
        self,
        local: SqliteStore,
        url: str,
        public_key: Ed25519PublicKey,
        *,
        interval: float = INTERVAL,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.local = local
        self.line = PostgresStore(url)
        self.lookups = PostgresStore(url, connect_timeout=LOOKUP_TIMEOUT)
        self.public_key = public_key
        self.interval = interval
        self.batch = batch
        self.last_report: SyncReport | None = None
        self._bus: EventBus | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said: set[str] = set()

    def __repr__(self) -> str:
        return f"LineLink({self.line.name!r})"

    def find_production(
        self, devid: str | None = None, genuine_id: str | None = None
    ) -> RegistryEntry | None:
        """The unit's passing production record: this station's registry first, then the line's."""
        entry = self.local.find_production(devid=devid, genuine_id=genuine_id)
        if entry is not None:
            return entry
        try:
            return self.lookups.find_production(devid=devid, genuine_id=genuine_id)
        except RecordError as exc:
            self._say("warning", f"unit lookup used the local registry only: {exc}")
            return None

    def start(self, bus: EventBus | None = None) -> None:
        """Start the sync thread (once); with a bus, every finished unit wakes it and problems go there."""
        if self._thread is not None:
            return
        self._bus = bus
        if bus is not None:
            bus.subscribe(self._on_event)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="line-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the current batch, sync once more (records of the last units), end the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            self._say("error", f"the sync thread did not end within {STOP_TIMEOUT:.0f} s")
        if self._bus is not None:
            self._bus.unsubscribe(self._on_event)

    def sync_now(self, stop: threading.Event | None = None) -> SyncReport | None:
        """One sync pass (None if nothing was pending or the line was unreachable); problems are said."""
        left = 0
        try:
            left = syncstate.unsent_count(self.local)
            if not left:
                self._state(reached=True, pending=0)
                return None
            report = sync(self.local, self.line, self.public_key, batch=self.batch, stop=stop)
        except RecordError as exc:
            self._say("warning", f"records not synced yet (kept locally, retried): {exc}")
            self._state(reached=False, pending=left, message=str(exc))
            return None
        except Exception as exc:  # the thread must outlive a bug; the records stay safe locally
            log.exception("line sync failed")
            self._say("error", f"line sync failed ({type(exc).__name__}); records kept locally, retried")
            self._state(reached=False, pending=left, message=type(exc).__name__)
            return None
        self.last_report = report
        try:
            left = syncstate.unsent_count(self.local)
        except Exception:  # the chip is not worth a failed pass: the report's own count will do
            left = report.waiting
        self._state(reached=True, pending=left)
        for refusal in report.refused:
            waiting = f"; {report.waiting} later record(s) wait behind it" if report.waiting else ""
            self._say("error", f"line database refused {refusal}{waiting} (kept locally)")
        for note in report.duplicate_units:
            self._say("warning", f"line registry: {note}")
        for note in report.missing:
            self._say("error", note)
        if report.sent:
            self._said = {message for message in self._said if message.startswith("line database refused")}
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sync_now(self._stop)
            self._wake.wait(self.interval)
            self._wake.clear()
        self.sync_now()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self._wake.set()

    def _state(self, *, reached: bool, pending: int, message: str = "") -> None:
        """The window's line-database chip: reached or not, and the records kept here meanwhile."""
        if self._bus is not None:
            self._bus.publish(LineSynced(SLOT, time.time(), reached, pending, message))

    def _say(self, level: str, message: str) -> None:
        """Log ``message`` once until it changes (a down database would otherwise repeat every pass)."""
        if message in self._said:
            return
        self._said.add(message)
        log.log(logging.ERROR if level == "error" else logging.WARNING, message)
        if self._bus is not None:
            self._bus.publish(LogLine(SLOT, time.time(), None, level, message))
