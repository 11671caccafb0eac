"""Store-and-forward: push a station's records from its SQLite store to the line database, verified.

>>> import tempfile; from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> line = PostgresStore("postgresql://station@127.0.0.1:1/line")       # down: nothing listens on port 1
>>> with tempfile.TemporaryDirectory() as folder:                # nothing to send: the line is not asked
...     sync(SqliteStore(f"{folder}/records.sqlite3"), line, Ed25519PrivateKey.generate().public_key())
SyncReport(sent=0, already=0, refused=[], waiting=0, duplicate_units=[], missing=[])
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.check.chain import ChainVerifier, Hint, Outcome, RecordFacts
from station.records.check.fanout import checked_in_order
from station.records.check.store import column_mismatch
from station.records.entries import StoredRecord
from station.records.jws import key_id
from station.records.line import state as syncstate
from station.records.line.push import Pushed, push_batch, register_station, report_conflict
from station.records.line.state import REFUSED, SENT, Mark
from station.records.store.postgres import PostgresStore
from station.records.store.sqlite import SqliteStore

DEFAULT_BATCH = 200
READ_PAGE = 2_000  # records read from the store at a time (checked ahead of the pushes, in order)


@dataclass(frozen=True)
class Refusal:
    station_id: str
    seq: int
    record_id: str
    reason: str

    def __str__(self) -> str:
        return f"station {self.station_id} seq {self.seq} record {self.record_id}: {self.reason}"


@dataclass
class SyncReport:
    """What one sync did: newly sent, found already in the line, refused, held back, duplicate units, and
    stations whose store ends before the line's newest record of them (their newest records are missing)."""

    sent: int = 0
    already: int = 0
    refused: list[Refusal] = field(default_factory=list)
    waiting: int = 0
    duplicate_units: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.missing

    def add(self, pushed: Pushed) -> None:
        self.sent += len(pushed.inserted)
        self.already += len(pushed.identical)
        self.duplicate_units += pushed.duplicate_units


def sync(
    local: SqliteStore,
    line: PostgresStore,
    public_key: Ed25519PublicKey,
    *,
    batch: int = DEFAULT_BATCH,
    stop: threading.Event | None = None,
) -> SyncReport:
    """Push every unsent record of ``local`` to ``line``; ``stop`` ends it between batches."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = SyncReport()
    for station_id in local.stations():
        if stop is not None and stop.is_set():
            break
        _StationSync(local, line, station_id, public_key, batch, stop, report).run()
    return report


@dataclass
class _StationSync:
    local: SqliteStore
    line: PostgresStore
    station_id: str
    public_key: Ed25519PublicKey
    batch: int
    stop: threading.Event | None
    report: SyncReport
    verifier: ChainVerifier = field(init=False)
    registered: list[str] = field(init=False)

    def run(self) -> None:
        keys = register_station(self.line, self.station_id, self.public_key)
        self.verifier = ChainVerifier(keys)
        self.registered = sorted(keys)
        head = self.line.last(self.station_id)
        cursor = 0 if head is None else head.seq
        if head is not None:
            self._compare(head.seq)
            self.verifier.continue_from(self.station_id, head.seq, head.jws)
            if not self._reconcile(head.seq):
                return  # our history differs from the line's: nothing after it can link
        with closing(self._checked_after(cursor)) as checked:
            accepted: list[StoredRecord] = []
            facts: dict[int, RecordFacts] = {}
            for record, outcome in checked:
                reason = self._reason(record, outcome)
                if reason is not None:
                    if accepted and not self._push(accepted, facts):
                        return
                    self._refuse(record, self._explain(reason), kind="refused")
                    return
                accepted.append(record)
                if outcome.facts is not None:  # always, for a record that passed
                    facts[record.seq] = outcome.facts
                if len(accepted) == self.batch:
                    if not self._push(accepted, facts) or self._stopped():
                        return
                    accepted, facts = [], {}
            if accepted and not self._stopped():
                self._push(accepted, facts)

    def _checked_after(self, cursor: int) -> Generator[tuple[StoredRecord, Outcome], None, None]:
        """The station's records after ``cursor`` in chain order, each checked on its own (on every core
        for a long backlog: ``check.fanout``), read a page at a time."""
        return checked_in_order(self._records_after(cursor), _text, self.verifier)

    def _records_after(self, cursor: int) -> Iterator[StoredRecord]:
        page = max(self.batch, READ_PAGE)
        while not self._stopped():
            records = syncstate.records_after(self.local, self.station_id, cursor, page)
            yield from records
            if len(records) < page:
                return
            cursor = records[-1].seq

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _compare(self, head_seq: int) -> None:
        """The line's newest record of the station is its head there: a store ending before it lost some."""
        last = self.local.last(self.station_id)
        end = 0 if last is None else last.seq
        if end < head_seq:
            self.report.missing.append(
                f"station {self.station_id}: the line database holds records up to seq {head_seq}, this "
                f"store ends at seq {end}: its newest {head_seq - end} record(s) are missing "
                "(run station records verify)"
            )

    def _reconcile(self, head_seq: int) -> bool:
        """Records the line already holds but we never marked sent (a sync killed after its commit);
        False if the line holds a different record for one of them."""
        after = 0
        while True:
            records = syncstate.unsent_up_to(self.local, self.station_id, after, head_seq, self.batch)
            if not records:
                return True
            pushed = push_batch(self.line, self.station_id, records)
            self._note(pushed)
            if pushed.different is not None:
                return False
            after = records[-1].seq

    def _reason(self, record: StoredRecord, outcome: Outcome) -> str | None:
        """Why ``record`` (checked on its own as ``outcome``) may not be pushed: its chain link, its
        checks, its stored columns; None if it may."""
        problem = self.verifier.place(outcome, Hint(record.station_id, record.seq, record.record_id))
        if problem is not None:
            return problem.reason
        return None if outcome.facts is None else column_mismatch(record, outcome.facts)

    def _explain(self, reason: str) -> str:
        if reason.startswith("signed by unknown key"):
            return (
                f"{reason}: station {self.station_id} is registered with key(s) {', '.join(self.registered)} "
                f"(this station signs with {key_id(self.public_key)}); a line administrator must register "
                "the new key (docs/line-database.md)"
            )
        return reason

    def _push(self, records: list[StoredRecord], facts: dict[int, RecordFacts]) -> bool:
        """Push one verified batch (``facts``: its records' verified facts, by seq); False if the line
        held a different record somewhere in it."""
        pushed = push_batch(self.line, self.station_id, records, facts)
        self._note(pushed)
        return pushed.different is None and pushed.refused is None

    def _note(self, pushed: Pushed) -> None:
        self.report.add(pushed)
        marks = [Mark(self.station_id, seq, SENT) for seq in (*pushed.inserted, *pushed.identical)]
        syncstate.mark(self.local, marks)
        if pushed.different is not None:
            record = pushed.different
            reason = f"the line database holds a different record for seq {record.seq} of this station"
            self._refuse(record, reason, kind="different-record")
        if pushed.refused is not None:
            self._refuse(*pushed.refused, kind="refused")

    def _refuse(self, record: StoredRecord, reason: str, *, kind: str) -> None:
        syncstate.mark(self.local, [Mark(self.station_id, record.seq, REFUSED, reason)])
        report_conflict(self.line, record, kind, reason)
        self.report.refused.append(Refusal(self.station_id, record.seq, record.record_id, reason))
        last = self.local.last(self.station_id)
        self.report.waiting += 0 if last is None else last.seq - record.seq


def _text(record: StoredRecord) -> str:
    return record.jws
