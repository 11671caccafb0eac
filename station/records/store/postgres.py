"""The line database: every station's records in one PostgreSQL database (psycopg 3).

>>> line = PostgresStore("postgresql://station:s3cret@127.0.0.1:1/line", connect_timeout=1)
>>> line                                        # the password never shows, in a repr or an error
PostgresStore('postgresql://station:***@127.0.0.1:1/line')
>>> line.last("line1-st01")                     # a database that is down costs the call an error, at once
Traceback (most recent call last):
station.core.errors.RecordError: line database postgresql://station:***@127.0.0.1:1/line: ...
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.records.entries import RegistryEntry, StoredRecord
from station.records.jws import key_id
from station.records.store.instance import eid_needles, holds_eid
from station.records.store.migrate import latest, postgres_version
from station.records.store.sqlite import stored_record

Connection = psycopg.Connection[tuple[Any, ...]]
CONNECT_TIMEOUT = 10
_PAGE = 2_000  # records per page read, each page on its own short connection
_SELECT = "SELECT station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws FROM records "
_SELECT_PAGE = (
    _SELECT + ""
    "WHERE (station_id > %(after_station)s OR (station_id = %(after_station)s AND seq > %(after_seq)s)) "
    "AND (%(station)s::text IS NULL OR station_id = %(station)s) "
    "AND (%(devid)s::text IS NULL OR devid = %(devid)s) "
    "ORDER BY station_id, seq LIMIT %(limit)s"
)
_SELECT_REGISTRY = "SELECT devid, genuine_id, station_id, seq, record_id, provisioned_at FROM unit_registry"
_PASSWORD = re.compile(r"(?P<head>://[^:/@]*:)[^@]*(?P<at>@)|(?P<key>password=)[^&\s]*")


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for reprs, logs and error messages)."""
    return _PASSWORD.sub(
        lambda m: f"{m.group('head')}***@" if m.group("head") else f"{m.group('key')}***", url
    )


class PostgresStore:
    """Records, unit registry and registered station keys of a line, in PostgreSQL."""

    def __init__(
        self, url: str, *, connect_timeout: float = CONNECT_TIMEOUT, check_schema: bool = True
    ) -> None:
        self._url = url
        self.connect_timeout = connect_timeout
        self._check_schema = check_schema

    def __repr__(self) -> str:
        return f"PostgresStore({self.name!r})"

    @property
    def name(self) -> str:
        """The database's URL without its password."""
        return redact(self._url)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """An autocommit connection, closed on exit; database errors become RecordError naming the URL."""
        try:
            connection = psycopg.connect(
                self._url, autocommit=True, connect_timeout=max(1, round(self.connect_timeout))
            )
        except psycopg.Error as exc:
            raise RecordError(f"line database {self.name}: {redact(_first_line(exc))}") from None
        with connection:
            try:
                if self._check_schema:
                    self._require_current(connection)
                yield connection
            except psycopg.Error as exc:
                raise RecordError(f"line database {self.name}: {redact(_first_line(exc))}") from exc

    def _require_current(self, connection: Connection) -> None:
        version = postgres_version(connection)
        if version != latest("postgres"):
            raise RecordError(
                f"line database {self.name} has schema version {version}, this software needs "
                f"{latest('postgres')}: run `station records migrate --store URL` as the database owner"
            )
        self._check_schema = False

    # --- lookups (store.RecordStore) ---------------------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord | None:
        return self._one(_SELECT + "WHERE record_id = %s", (record_id,))

    def last(self, station_id: str) -> StoredRecord | None:
        return self._one(_SELECT + "WHERE station_id = %s ORDER BY seq DESC LIMIT 1", (station_id,))

    def at(self, station_id: str, seq: int) -> StoredRecord | None:
        return self._one(_SELECT + "WHERE station_id = %s AND seq = %s", (station_id, seq))

    def records(self, station_id: str | None = None, devid: str | None = None) -> Iterator[StoredRecord]:
        """Records in chain order, read in keyset pages on short-lived connections."""
        after: tuple[str, int] = ("", 0)
        while True:
            parameters = {
                "after_station": after[0],
                "after_seq": after[1],
                "station": station_id,
                "devid": devid,
                "limit": _PAGE,
            }
            with self.connect() as connection:
                page = [stored_record(row) for row in connection.execute(_SELECT_PAGE, parameters)]
            yield from page
            if len(page) < _PAGE:
                return
            after = (page[-1].station_id, page[-1].seq)

    def records_of_unit(self, devid: str | None = None, genuine_id: str | None = None) -> list[StoredRecord]:
        """Every record whose ``devid`` or ``genuine_id`` matches (either), in chain order (indexed)."""
        if devid is None and genuine_id is None:
            raise RecordError("records_of_unit needs a devid or a genuine_id")
        with self.connect() as connection:
            rows = connection.execute(
                _SELECT + "WHERE devid = %s OR genuine_id = %s ORDER BY station_id, seq", (devid, genuine_id)
            ).fetchall()
        return [stored_record(row) for row in rows]

    def records_of_instance(self, eid: str) -> list[StoredRecord]:
        """Every record whose payload names ``eid`` as its unit's instance, in chain order (a text scan)."""
        with self.connect() as connection:
            rows = connection.execute(
                _SELECT + "WHERE strpos(jws, %s) > 0 OR strpos(jws, %s) > 0 OR strpos(jws, %s) > 0 "
                "ORDER BY station_id, seq",
                eid_needles(eid),
            ).fetchall()
        return [found for found in map(stored_record, rows) if holds_eid(found, eid)]

    def stations(self) -> list[str]:
        with self.connect() as connection:
            rows = connection.execute("SELECT DISTINCT station_id FROM records ORDER BY 1").fetchall()
        return [row[0] for row in rows]

    def find_production(
        self, devid: str | None = None, genuine_id: str | None = None
    ) -> RegistryEntry | None:
        if devid is None and genuine_id is None:
            raise RecordError("find_production needs a devid or a genuine_id")
        with self.connect() as connection:
            row = connection.execute(
                f"{_SELECT_REGISTRY} WHERE devid = %s OR genuine_id = %s ORDER BY provisioned_at LIMIT 1",
                (devid, genuine_id),
            ).fetchone()
        return None if row is None else RegistryEntry(*row)

    def registry_entries(self) -> list[RegistryEntry]:
        with self.connect() as connection:
            return [RegistryEntry(*row) for row in connection.execute(_SELECT_REGISTRY)]

    def integrity(self) -> str | None:
        """Nothing to check from a client: PostgreSQL guards its own pages (initdb --data-checksums)."""
        with self.connect():
            return None

    # --- registered station keys -------------------------------------------------------------------------

    def station_keys(self, station_id: str | None = None) -> dict[str, Ed25519PublicKey]:
        """Registered signing keys ``{key_id: key}`` of one station, or of every station (for auditors)."""
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT key_id, public_key FROM stations WHERE %s::text IS NULL OR station_id = %s",
                (station_id, station_id),
            ).fetchall()
        return {kid: public_key_of(kid, text) for kid, text in rows}

    def _one(self, sql: str, parameters: tuple[Any, ...]) -> StoredRecord | None:
        with self.connect() as connection:
            row = connection.execute(sql.encode("utf-8"), parameters).fetchone()
        return None if row is None else stored_record(row)


def public_key_text(key: Ed25519PublicKey) -> str:
    """How ``stations.public_key`` holds a key: standard base64 of the raw 32 bytes."""
    from station.core.codec import ed25519_public_raw

    return base64.b64encode(ed25519_public_raw(key)).decode("ascii")


def public_key_of(kid: str, text: str) -> Ed25519PublicKey:
    """A registered key back from its text; a row whose key does not match its key_id is refused."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError:
        raise RecordError(f"stations row for key {kid}: public_key is not a base64 Ed25519 key") from None
    if key_id(key) != kid:
        raise RecordError(f"stations row for key {kid}: public_key has key id {key_id(key)}")
    return key


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
