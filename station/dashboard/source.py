"""Read-only access to the line database (PostgreSQL) or one station's store (SQLite), a connection a request.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder, scratch_source(folder).session() as session:
...     session.kind, session.rows("SELECT count(*) FROM records WHERE mode = ?", ("qa",))
('sqlite', [(0,)])
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.dashboard.facts import Facts, FactsCache
from station.records.store import RecordStore
from station.records.store.migrate import is_url, postgres_version
from station.records.store.postgres import Connection, PostgresStore, redact
from station.records.store.sqlite import SqliteStore

DASHBOARD_SCHEMA = 5  # migration 0005: the generated columns and indexes the pages read
STATEMENT_TIMEOUT_MS = 10_000  # no page query may run away with the database
KEYS_FOR = 60.0  # seconds a read of the registered station keys is reused
_PG_FACTS = "fail_step, fail_code, fail_message, profile, operator_id"


class Source:
    """Where the pages read from: a ``postgresql://`` URL (read-only sessions) or a station's store file."""

    def __init__(self, target: str, *, trusted_keys: Mapping[str, Ed25519PublicKey] | None = None) -> None:
        self.target = target
        self.kind = "postgres" if is_url(target) else "sqlite"
        self.name = redact(target)
        self._trusted = dict(trusted_keys or {})
        self._keys: tuple[float, dict[str, Ed25519PublicKey]] | None = None
        self._lock = threading.Lock()
        self.facts_cache = FactsCache()
        self.memo: dict[Any, Any] = {}  # what a page keeps between requests (profiles: whole past days)
        self._schema_ok = False
        if self.kind == "sqlite" and not Path(target).is_file():
            raise RecordError(f"no record store at {target}")

    def __repr__(self) -> str:
        return f"Source({self.name!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One connection for one page: read-only, bounded in time; errors become RecordError."""
        if self.kind == "postgres":
            with self._postgres() as connection:
                yield Session(self, connection)
        else:
            with self._sqlite() as connection:
                yield Session(self, connection)

    def trusted_keys(self, session: Session) -> dict[str, Ed25519PublicKey]:
        """The keys a record is verified with: the line's registered station keys, plus any given."""
        if self.kind == "sqlite":
            return dict(self._trusted)
        with self._lock:
            if self._keys is not None and time.monotonic() - self._keys[0] < KEYS_FOR:
                return {**self._keys[1], **self._trusted}
        keys = session.store.station_keys()  # type: ignore[attr-defined]
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return {**keys, **self._trusted}

    @contextmanager
    def _postgres(self) -> Iterator[Connection]:
        try:
            connection = psycopg.connect(self.target, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise RecordError(f"line database {self.name}: {redact(_first_line(exc))}") from None
        with connection:
            try:
                connection.execute("SET default_transaction_read_only = on")
                connection.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS:d}")
                version = DASHBOARD_SCHEMA if self._schema_ok else postgres_version(connection)
                if version < DASHBOARD_SCHEMA:
                    raise RecordError(
                        f"line database {self.name} has schema version {version}; the dashboard needs "
                        f"{DASHBOARD_SCHEMA}: run `station records migrate --store URL` as the database owner"
                    )
                self._schema_ok = True
                yield connection
            except psycopg.Error as exc:
                raise RecordError(f"line database {self.name}: {redact(_first_line(exc))}") from exc

    @contextmanager
    def _sqlite(self) -> Iterator[sqlite3.Connection]:
        uri = Path(self.target).resolve().as_uri() + "?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)
        except sqlite3.Error as exc:
            raise RecordError(f"cannot open record store {self.target}: {exc}") from None
        with closing(connection):
            connection.text_factory = lambda data: data.decode("utf-8", errors="replace")
            try:
                connection.execute("PRAGMA query_only = ON")
                yield connection
            except sqlite3.Error as exc:
                raise RecordError(f"record store {self.target}: {exc}") from exc


class Session:
    """Queries of one page on one connection; SQL is written once, with ``?`` placeholders."""

    def __init__(self, source: Source, connection: Connection | sqlite3.Connection) -> None:
        self.source = source
        self.kind = source.kind
        self._connection = connection
        self._store: RecordStore | None = None

    def rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        if isinstance(self._connection, sqlite3.Connection):
            return self._connection.execute(sql, tuple(parameters)).fetchall()
        return self._connection.execute(sql.replace("?", "%s").encode("utf-8"), tuple(parameters)).fetchall()

    @property
    def facts_columns(self) -> str:
        """What a query selects for ``facts``: the generated columns, or the JWS SQLite has to decode."""
        return _PG_FACTS if self.kind == "postgres" else "jws"

    def facts(self, record_id: str, selected: Sequence[Any]) -> Facts:
        """The ``Facts`` of a row whose tail holds ``facts_columns``."""
        if self.kind == "postgres":
            return Facts(*selected[:5])
        return self.source.facts_cache.get(record_id, str(selected[0]))

    @property
    def store(self) -> RecordStore:
        """The records as a ``RecordStore`` (for ``record_view`` and unit histories), on this connection."""
        if self._store is None:
            if isinstance(self._connection, sqlite3.Connection):
                self._store = SqliteStore(self.source.target, create=False, migrate=False)
            else:
                self._store = _PinnedPostgres(self.source.target, self._connection)
        return self._store


class _PinnedPostgres(PostgresStore):
    """A ``PostgresStore`` that reuses the page's connection instead of opening one per call."""

    def __init__(self, url: str, connection: Connection) -> None:
        super().__init__(url, check_schema=False)
        self._pinned = connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            yield self._pinned
        except psycopg.Error as exc:
            raise RecordError(f"line database {self.name}: {redact(_first_line(exc))}") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def scratch_source(folder: str | Path) -> Source:
    """A ``Source`` over a new, empty station store in ``folder`` (for examples and tests)."""
    return Source(str(SqliteStore(Path(folder) / "records.sqlite3").path))
