"""QA's side of the records: find the record a unit was made (or last repaired) under, and check it.

>>> import tempfile; from pathlib import Path; from station.records.store.sqlite import SqliteStore
>>> with tempfile.TemporaryDirectory() as folder:            # an empty store: no record knows the unit
...     source = RecordSource("this station", SqliteStore(Path(folder) / "records.sqlite3"), dict)
...     find_unit_record((source,), devid="2023b758c209269a", genuine_id="0123eb561f5ea073ee") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.check.chain import ChainVerifier, Hint
from station.records.check.store import column_mismatch, registry_mismatch
from station.records.entries import RegistryEntry, StoredRecord
from station.records.history import links_of
from station.records.store import RecordStore


class RecordMissing(Exception):
    """The unit registry names a record that no store holds (the file was edited, or a sync is broken)."""

    def __init__(self, entry: RegistryEntry) -> None:
        super().__init__(f"the unit registry names record {entry.record_id}, which no record store holds")
        self.entry = entry


@dataclass(frozen=True)
class RecordSource:
    """A store QA looks records up in, and the station keys it trusts for the records found there."""

    name: str  # "this station", "line database ..." (for messages)
    store: RecordStore
    trusted_keys: Callable[[], Mapping[str, Ed25519PublicKey]]


@dataclass(frozen=True)
class Located:
    """One record and the source it came from."""

    stored: StoredRecord
    source: RecordSource

    @property
    def name(self) -> str:
        stored = self.stored
        return f"record {stored.record_id} ({stored.mode}, station {stored.station_id} seq {stored.seq})"


@dataclass(frozen=True)
class FoundRecord:
    """The unit's records, production first, the one QA compares against (``latest``) last."""

    history: tuple[Located, ...]
    entry: RegistryEntry | None  # the registry entry of the production record (None: RMA-only unit)
    devid_owner: RegistryEntry | None = None  # another registry entry holding the unit's devid

    @property
    def latest(self) -> Located:
        return self.history[-1]


def registry_entry(
    sources: tuple[RecordSource, ...], *, devid: str | None = None, genuine_id: str | None = None
) -> RegistryEntry | None:
    """The unit registry entry for exactly this ``devid`` or this ``genuine_id`` (one of them given)."""
    for source in sources:
        entry = source.store.find_production(devid=devid, genuine_id=genuine_id)
        if entry is not None:
            return entry
    return None


def find_unit_record(
    sources: tuple[RecordSource, ...], *, devid: str | None, genuine_id: str | None
) -> FoundRecord | None:
    """The unit's record history, found by its secure element first (the attested identity), then devid.

    None when no record knows the unit; RecordMissing when the registry names a record nobody holds.
    """
    by_genuine = registry_entry(sources, genuine_id=genuine_id) if genuine_id else None
    by_devid = registry_entry(sources, devid=devid) if devid else None
    entry = by_genuine or by_devid
    owner = by_devid if by_devid is not None and entry is not None and by_devid != entry else None
    root = _production(sources, entry) if entry is not None else _rma_root(sources, devid)
    if root is None and entry is not None:
        raise RecordMissing(entry)
    if root is None:
        return None
    unit_devid = devid or root.stored.devid
    repairs = list(_passing(sources, unit_devid, "rma")) if unit_devid else []
    history = _follow_supersedes(root, repairs)
    return FoundRecord(tuple(history), entry, owner)


def unit_records(
    sources: tuple[RecordSource, ...], *, devid: str | None, genuine_id: str | None
) -> list[StoredRecord]:
    """Every record of the unit (failed runs and QA included), each once, oldest first."""
    if devid is None and genuine_id is None:
        return []
    found: dict[str, StoredRecord] = {}
    for source in sources:
        for stored in source.store.records_of_unit(devid=devid, genuine_id=genuine_id):
            found.setdefault(stored.record_id, stored)
    return sorted(found.values(), key=lambda stored: stored.finished)


def check_found(found: FoundRecord, ca_certificate: x509.Certificate | None) -> str | None:
    """Why one of the unit's records cannot be trusted (named, with the failed check), or None."""
    for located in found.history:
        reason = check_record(located, ca_certificate, found.entry)
        if reason is not None:
            return f"{located.name} in {located.source.name} does not verify: {reason}"
    return None


def check_record(
    located: Located, ca_certificate: x509.Certificate | None, entry: RegistryEntry | None
) -> str | None:
    """Signature, schema, certificate, stored columns, registry entry and both chain neighbours."""
    stored, store = located.stored, located.source.store
    verifier = ChainVerifier(located.source.trusted_keys(), ca_certificate)
    if stored.seq > 1:
        previous = store.at(stored.station_id, stored.seq - 1)
        if previous is None:
            return f"the station's record seq {stored.seq - 1}, which it links to, is missing"
        verifier.continue_from(stored.station_id, stored.seq - 1, previous.jws)
    payload, problem = verifier.feed(stored.jws, _hint(stored))
    if problem is not None or payload is None:
        return problem.reason if problem is not None else "unreadable"
    registry = {entry.record_id: entry} if entry is not None else {}
    reason = column_mismatch(stored, payload) or registry_mismatch(stored, payload, registry)
    return reason or _next_link(verifier, store, stored)


def _next_link(verifier: ChainVerifier, store: RecordStore, stored: StoredRecord) -> str | None:
    follower = store.at(stored.station_id, stored.seq + 1)
    if follower is None:
        return None  # the station's newest record: nothing links to it yet
    _, problem = verifier.feed(follower.jws, _hint(follower))
    if problem is None:
        return None
    return f"the station's next record (seq {follower.seq}) does not confirm it: {problem.reason}"


def _hint(stored: StoredRecord) -> Hint:
    return Hint(stored.station_id, stored.seq, stored.record_id)


def _production(sources: tuple[RecordSource, ...], entry: RegistryEntry) -> Located | None:
    for source in sources:
        stored = source.store.get(entry.record_id)
        if stored is not None:
            return Located(stored, source)
    return None


def _rma_root(sources: tuple[RecordSource, ...], devid: str | None) -> Located | None:
    """A passing RMA record of ``devid`` that supersedes nothing (a unit no production record explains)."""
    if devid is None:
        return None
    roots = [found for found in _passing(sources, devid, "rma") if not links_of(found.stored).supersedes]
    return roots[0] if roots else None


def _follow_supersedes(root: Located, candidates: list[Located]) -> list[Located]:
    history = [root]
    while True:
        newest = history[-1].stored.record_id
        later = [found for found in candidates if links_of(found.stored).supersedes == newest]
        if not later or later[0] in history:
            return history
        history.append(later[0])


def _passing(sources: tuple[RecordSource, ...], devid: str, mode: str) -> Iterator[Located]:
    """Passing records of ``mode`` for ``devid``, each once (a synced record is in both stores)."""
    seen: set[str] = set()
    for source in sources:
        for stored in source.store.records_of_unit(devid=devid):  # indexed: a unit has a handful
            if stored.mode == mode and stored.outcome == "pass" and stored.record_id not in seen:
                seen.add(stored.record_id)
                yield Located(stored, source)
