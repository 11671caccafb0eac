"""The station's own record store: one SQLite file in WAL mode, durable at every commit.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     store = SqliteStore(Path(folder) / DEFAULT_FILENAME)     # created, migrated, WAL
...     run_id = store.begin_run(slot="A1", mode="production")
...     [run.slot for run in store.open_runs()], list(store.records()), store.integrity()
(['A1'], [], None)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from station.core.errors import RecordError
from station.core.privatefiles import make_private_dirs, private_file, refuse_shared_files
from station.records.entries import RegistryEntry, StoredRecord
from station.records.jws import peek
from station.records.model import rfc3339, utc_now
from station.records.store.instance import eid_needles, holds_eid
from station.records.store.journal import RunJournal
from station.records.store.migrate import latest, migrate_sqlite, sqlite_version

DEFAULT_FILENAME = "records.sqlite3"
STORE_WHAT = "record store"  # how errors about the file's mode name it
_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's files beside the database, as readable as it
BUSY_TIMEOUT_MS = 30_000
_PAGE = 2_000  # records per page read (about 8 MB of signed text at most)
_SELECT_BY_ID = (
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE record_id = ?"
)
_SELECT_AT = (
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE station_id = ? AND seq = ?"
)
_SELECT_LAST = (
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE station_id = ? ORDER BY seq DESC LIMIT 1"
)
_SELECT_PAGE = (  # keyset pagination in chain order; a None filter matches everything
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE (station_id > :after_station OR (station_id = :after_station AND seq > :after_seq)) "
    "AND (:station IS NULL OR station_id = :station) AND (:devid IS NULL OR devid = :devid) "
    "ORDER BY station_id, seq LIMIT :limit"
)

_SELECT_UNIT = (  # OR of two indexed columns: SQLite answers it from both indexes, no table scan
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE devid = ? OR genuine_id = ? ORDER BY station_id, seq"
)

_SELECT_INSTANCE = (  # instr is case-sensitive (LIKE is not, and treats base64url's "_" as a wildcard)
    "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
    "WHERE instr(jws, ?) > 0 OR instr(jws, ?) > 0 OR instr(jws, ?) > 0 ORDER BY station_id, seq"
)

_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}
_after_commit: dict[
    int, list[Callable[[], None]]
] = {}  # id(connection) -> actions, while its transaction lasts


def _lock_for(path: Path) -> threading.Lock:
    """One lock per database file for the whole process, however many stores open it."""
    key = str(path.resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _decode_text(data: bytes) -> str:
    # A damaged file must be reported as a bad record, not crash the reader with a decode error.
    return data.decode("utf-8", errors="replace")


class SqliteStore(RunJournal):
    """Records, unit registry, runs and journal in one SQLite file (created unless ``create=False``).

    Opening applies pending schema migrations (``migrate.py``) unless ``migrate=False``.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = True,
        clock: Callable[[], datetime] = utc_now,
        migrate: bool = True,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        if not create and not self.path.is_file():
            raise RecordError(f"no record store at {self.path}")
        if create:
            make_private_dirs(self.path.parent)
            private_file(self.path, STORE_WHAT)  # 0600 before SQLite makes it: its WAL and SHM follow
        # It holds the operators' PIN hashes: refused, with the chmod, when others may read any part of it.
        refuse_shared_files(
            [self.path, *(self.path.with_name(self.path.name + s) for s in _SIDE_FILES)], STORE_WHAT
        )
        self._lock = _lock_for(self.path)
        self._kept = threading.local()  # a worker thread's write connection (``_write_connection``)
        self._prepare(migrate)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # --- connections and transactions --------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh autocommit connection with the store's pragmas, closed on exit."""
        connection = self._open()
        with closing(connection):
            try:
                yield connection
            except sqlite3.Error as exc:  # disk full, locked past the busy timeout, a trigger's refusal
                raise RecordError(f"record store {self.path}: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction under the file's process-wide lock; rolled back on any error.

        Actions given to ``after_commit`` run once the COMMIT has returned, still under the lock.
        """
        with self._lock, self._write_connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                _after_commit.pop(id(connection), None)
                if connection.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    connection.execute("ROLLBACK")
                raise
            for action in _after_commit.pop(id(connection), ()):
                action()

    @contextmanager
    def _write_connection(self) -> Iterator[sqlite3.Connection]:
        """The connection a write transaction runs on: a worker thread's own, kept between transactions.

        Opening a connection, and above all closing the last one (SQLite then checkpoints the WAL into the
        file), cost about ten times the CPU of the durable transaction itself; a slot thread writes ~20
        per unit. So each worker thread keeps one connection for its life (closed when the thread ends),
        with the same pragmas: every COMMIT is still fsynced (``synchronous = FULL``). The main thread
        (command-line tools, tests) opens one per transaction as before, so a tool that returns leaves a
        file that is complete without its WAL. After any failure the kept connection is closed and the
        next transaction starts on a fresh one.
        """
        if threading.current_thread() is threading.main_thread():
            with self.connect() as fresh:
                yield fresh
            return
        held: _Kept | None = getattr(self._kept, "held", None)
        if held is None:
            held = self._kept.held = _Kept(self._open(check_same_thread=False))
        try:
            yield held.connection
        except BaseException as exc:
            self._kept.held = None
            held.connection.close()
            if isinstance(exc, sqlite3.Error):
                raise RecordError(f"record store {self.path}: {exc}") from exc
            raise

    def _open(self, *, check_same_thread: bool = True) -> sqlite3.Connection:
        """A new autocommit connection with the store's pragmas (the caller closes it)."""
        try:
            connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=check_same_thread,
            )
        except sqlite3.Error as exc:
            raise RecordError(f"cannot open record store {self.path}: {exc}") from None
        connection.text_factory = _decode_text
        try:
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise RecordError(f"{self.path} is not a usable record store: {exc}") from None
        return connection

    def after_commit(self, connection: sqlite3.Connection, action: Callable[[], None]) -> None:
        """Run ``action`` when ``connection``'s write transaction has committed; never if it rolls back.

        For what must follow a commit and never precede it: a head file (``records/head.py``) may lag
        its chain after a crash, but must never name a row the store does not hold. Outside a
        transaction (autocommit: already committed) ``action`` runs at once.
        """
        if connection.in_transaction:
            _after_commit.setdefault(id(connection), []).append(action)
        else:
            action()

    def now(self) -> str:
        """The store's clock as RFC 3339 UTC text (``created``, ``at`` and ``updated`` columns)."""
        return rfc3339(self.clock())

    def _prepare(self, migrate: bool) -> None:
        with self._lock, self.connect() as connection:
            try:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if migrate:
                    migrate_sqlite(connection, self.now())
                version = sqlite_version(connection)
            except sqlite3.DatabaseError as exc:
                raise RecordError(f"{self.path} is not a usable record store: {exc}") from None
            except RecordError as exc:
                raise RecordError(f"{self.path} has {exc}") from None
        if str(mode).lower() != "wal":
            raise RecordError(f"{self.path}: cannot switch to WAL journal mode (got {mode})")
        if migrate and version != latest("sqlite"):
            known = latest("sqlite")
            raise RecordError(f"{self.path} has schema version {version}; this software knows {known}")

    # --- lookups -----------------------------------------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord | None:
        """The record with this id, or None."""
        return self._one(_SELECT_BY_ID, (record_id,))

    def last(self, station_id: str) -> StoredRecord | None:
        """The station's newest record (highest ``seq``), or None before its first."""
        return self._one(_SELECT_LAST, (station_id,))

    def at(self, station_id: str, seq: int) -> StoredRecord | None:
        """The station's record number ``seq``, or None."""
        return self._one(_SELECT_AT, (station_id, seq))

    def records(self, station_id: str | None = None, devid: str | None = None) -> Iterator[StoredRecord]:
        """Records in chain order (station, then seq), optionally of one station and/or one unit.

        Read in pages on short-lived connections, so a slow consumer never holds the database open.
        """
        after: tuple[str, int] = ("", 0)
        while True:
            page = self._page(after, station_id, devid)
            yield from page
            if len(page) < _PAGE:
                return
            after = (page[-1].station_id, page[-1].seq)

    def records_of_unit(self, devid: str | None = None, genuine_id: str | None = None) -> list[StoredRecord]:
        """Every record whose ``devid`` or ``genuine_id`` matches (either), in chain order.

        Unlike ``records(devid=...)`` this uses the two indexes: a unit's history, not a pass over the file.
        """
        if devid is None and genuine_id is None:
            raise RecordError("records_of_unit needs a devid or a genuine_id")
        with self.connect() as connection:
            return [stored_record(row) for row in connection.execute(_SELECT_UNIT, (devid, genuine_id))]

    def records_of_instance(self, eid: str) -> list[StoredRecord]:
        """Every record whose payload names ``eid`` as its unit's instance, in chain order.

        ``eid`` has no column: SQLite scans the signed text for it (``instance.eid_needles``), so this is a
        pass over the table, made once per personalised unit a QA or RMA bench cannot otherwise identify.
        """
        with self.connect() as connection:
            rows = connection.execute(_SELECT_INSTANCE, eid_needles(eid)).fetchall()
        return [found for found in map(stored_record, rows) if holds_eid(found, eid)]

    def stations(self) -> list[str]:
        """Ids of every station with records in this store."""
        with self.connect() as connection:
            return [
                row[0] for row in connection.execute("SELECT DISTINCT station_id FROM records ORDER BY 1")
            ]

    def find_production(
        self, devid: str | None = None, genuine_id: str | None = None
    ) -> RegistryEntry | None:
        """The registry entry of the unit with this ``devid`` or this ``genuine_id`` (either matches)."""
        with self.connect() as connection:
            return find_production_in(connection, devid, genuine_id)

    def registry_entries(self) -> list[RegistryEntry]:
        """Every unit registry entry (for ``verify_store``'s cross-check against the records)."""
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT devid, genuine_id, station_id, seq, record_id, provisioned_at FROM unit_registry"
            ).fetchall()
        return [RegistryEntry(*row) for row in rows]

    def integrity(self) -> str | None:
        """What SQLite's ``quick_check`` finds wrong with the file, or None when it is intact."""
        try:
            with self.connect() as connection:
                rows = [row[0] for row in connection.execute("PRAGMA quick_check")]
        except (sqlite3.DatabaseError, RecordError) as exc:
            return str(exc)
        return None if rows == ["ok"] else "; ".join(rows[:3])

    def _one(self, sql: str, parameters: tuple[Any, ...]) -> StoredRecord | None:
        with self.connect() as connection:
            row = connection.execute(sql, parameters).fetchone()
        return None if row is None else stored_record(row)

    def _page(self, after: tuple[str, int], station_id: str | None, devid: str | None) -> list[StoredRecord]:
        parameters = {
            "after_station": after[0],
            "after_seq": after[1],
            "station": station_id,
            "devid": devid,
            "limit": _PAGE,
        }
        with self.connect() as connection:
            connection.text_factory = str  # decoded in C: a long chain is read page by page like this
            try:
                rows = connection.execute(_SELECT_PAGE, parameters).fetchall()
            except sqlite3.OperationalError as exc:
                if "decode" not in str(exc):
                    raise
                connection.text_factory = _decode_text  # a damaged page: read it the forgiving way
                rows = connection.execute(_SELECT_PAGE, parameters).fetchall()
        return [stored_record(row) for row in rows]


class _Kept:
    """A worker thread's write connection, closed as soon as the thread ends.

    The thread's ``threading.local`` slot is freed when the thread ends, and with it this holder. The
    connection itself sits in a reference cycle (its statement cache refers back to it), so without the
    holder it would stay open, its WAL beside the file, until the garbage collector ran. It is made with
    ``check_same_thread=False`` only so that this close works wherever the holder is freed; the
    connection is used by its own thread alone (``threading.local``).
    """

    __slots__ = ("connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __del__(self) -> None:
        self.connection.close()


def find_production_in(
    connection: sqlite3.Connection, devid: str | None, genuine_id: str | None
) -> RegistryEntry | None:
    """Registry lookup on an open connection (inside a write transaction for the uniqueness check)."""
    if devid is None and genuine_id is None:
        raise RecordError("find_production needs a devid or a genuine_id")
    row = connection.execute(
        "SELECT devid, genuine_id, station_id, seq, record_id, provisioned_at FROM unit_registry "
        "WHERE devid = ? OR genuine_id = ? ORDER BY provisioned_at LIMIT 1",
        (devid, genuine_id),
    ).fetchone()
    return None if row is None else RegistryEntry(*row)


def stored_record(row: tuple[Any, ...]) -> StoredRecord:
    """A ``records`` row as a StoredRecord; the payload is decoded from the JWS when first used."""
    station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws = row
    payload = LazyPayload(jws)
    return StoredRecord(station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws, payload)


class LazyPayload(Mapping[str, Any]):
    """A stored JWS's (unverified) payload, decoded on first use.

    Listing and verifying a long chain then decodes each record once (in the verifier), not twice.
    An undecodable JWS reads as an empty payload (verify reports the record).
    """

    __slots__ = ("_jws", "_value")

    def __init__(self, jws: str) -> None:
        self._jws = jws
        self._value: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._value is None:
            try:
                _, self._value = peek(self._jws)
            except RecordError:
                self._value = {}
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())
