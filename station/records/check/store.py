"""Verifying a whole record store: the chains, plus everything the store says beside the signed text.

>>> import tempfile; from station.records.store.sqlite import SqliteStore
>>> with tempfile.TemporaryDirectory() as folder:       # SQLite here; the line database is checked alike
...     report = verify_store(SqliteStore(f"{folder}/records.sqlite3"), trusted_keys={})
...     report.ok, report.checked, report.problems
(True, 0, ())
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.check.anchors import head_file_findings, line_findings, run_findings
from station.records.check.chain import ChainVerifier, Hint, Problem, RecordFacts, VerifyReport
from station.records.check.fanout import checked_in_order
from station.records.entries import RegistryEntry, StoredRecord
from station.records.payload import RecordPayload
from station.records.store import RecordStore
from station.records.store.sqlite import SqliteStore


def verify_store(
    store: RecordStore,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    ca_certificate: x509.Certificate | None = None,
    *,
    line: RecordStore | None = None,
    stations: Iterable[str] = (),
    workers: int | None = None,
) -> VerifyReport:
    """Verify every record in ``store`` (chain order), its columns and the unit registry; a station's
    store also against its runs, its head file and (given ``line``) the line database's records of its
    stations (those in the store, in its head file, and ``stations``).

    A long chain's records are checked on every core (``check.fanout``; ``workers`` processes, default
    one per core); the report is the same as a one-process check's."""
    verifier = ChainVerifier(trusted_keys, ca_certificate)
    registry = {entry.record_id: entry for entry in store.registry_entries()}
    seen: set[str] = set()
    newest: dict[str, StoredRecord] = {}
    for record, outcome in checked_in_order(store.records(), _text, verifier, workers=workers):
        newest[record.station_id] = record
        hint = Hint(record.station_id, record.seq, record.record_id)
        problem = verifier.place(outcome, hint)
        seen.add(record.record_id)
        facts = outcome.facts
        if facts is None or problem is not None:
            continue
        reason = column_mismatch(record, facts) or registry_mismatch(record, facts, registry)
        if reason is not None:
            verifier.add_problem(Problem(verifier.checked - 1, *_name(hint), reason))
    for record_id, entry in registry.items():
        if record_id not in seen:
            reason = f"unit registry entry for devid {entry.devid} names a record that is not in the store"
            verifier.add_problem(Problem(verifier.checked, entry.station_id, entry.seq, record_id, reason))
    _anchored(
        store, verifier, seen=seen, newest=newest, trusted_keys=trusted_keys, line=line, stations=stations
    )
    damage = store.integrity()
    if damage is not None:
        verifier.add_problem(Problem(-1, None, None, None, f"database file is damaged: {damage}"))
    return verifier.report()


def _anchored(
    store: RecordStore,
    verifier: ChainVerifier,
    *,
    seen: set[str],
    newest: Mapping[str, StoredRecord],
    trusted_keys: Mapping[str, Ed25519PublicKey],
    line: RecordStore | None,
    stations: Iterable[str],
) -> None:
    """Add what the runs, the head file and the line database say of the store's tail."""
    problems: list[Problem] = []
    notes: list[str] = []
    known = {*newest, *stations}
    if isinstance(store, SqliteStore):
        problems += run_findings(store, seen)
        found, said = head_file_findings(store, newest, trusted_keys)
        problems += found
        notes += said
        known |= {problem.station for problem in found if problem.station is not None}
    if line is not None:
        found, said = line_findings(line, store, known, newest)
        problems += found
        notes += said
    for problem in problems:
        verifier.add_problem(replace(problem, index=verifier.checked))
    for note in notes:
        verifier.add_note(note)


def _text(record: StoredRecord) -> str:
    return record.jws


def _name(hint: Hint) -> tuple[str, int, str]:
    return hint.station, hint.seq, hint.record_id


def column_mismatch(record: StoredRecord, payload: RecordPayload | RecordFacts) -> str | None:
    """Which stored column differs from the signed payload, or None (the columns are only an index)."""
    facts = payload if isinstance(payload, RecordFacts) else RecordFacts.of(payload)
    stored = (record.station_id, record.seq, record.record_id, record.devid, record.genuine_id)
    if stored == (facts.station_id, facts.seq, facts.record_id, facts.devid, facts.genuine_id) and (
        (record.mode, record.outcome) == (facts.mode, facts.outcome)
    ):
        return None  # the usual case, in one comparison; otherwise the loop below names the column
    signed = (
        ("station_id", facts.station_id),
        ("seq", facts.seq),
        ("record_id", facts.record_id),
        ("devid", facts.devid),
        ("genuine_id", facts.genuine_id),
        ("mode", facts.mode),
        ("outcome", facts.outcome),
    )
    for column, value in signed:
        if getattr(record, column) != value:
            return f"stored column {column} differs from the signed record"
    return None


def registry_mismatch(
    record: StoredRecord, payload: RecordPayload | RecordFacts, registry: Mapping[str, RegistryEntry]
) -> str | None:
    """Why the unit registry disagrees with this (verified) record, or None."""
    facts = payload if isinstance(payload, RecordFacts) else RecordFacts.of(payload)
    entry = registry.get(record.record_id)
    production_pass = facts.production_pass
    if production_pass and entry is None:
        return "passing production record has no unit registry entry"
    if entry is None:
        return None
    if not production_pass:
        return "unit registry names a record that is not a passing production record"
    if (entry.devid, entry.genuine_id, entry.station_id, entry.seq) != (
        *facts.index_ids,
        facts.station_id,
        facts.seq,
    ):
        return "unit registry entry differs from the signed record"
    return None
