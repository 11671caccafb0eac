"""What a store is checked against outside itself: its head file, the line database's records, its own runs.

>>> finding = compare_head("st01", ChainHead(9, "ab" * 32), None, lambda seq: None, anchor="the head file")
>>> str(finding)
'station st01 seq 9: the newest 9 records are missing: the head file says seq 9, the store ends at seq 0'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.records.check.chain import Problem
from station.records.entries import StoredRecord
from station.records.head import RECORDS, ChainHead, HeadFile, check_head, head_path
from station.records.model import chain_hash
from station.records.store import RecordStore
from station.records.store.sqlite import SqliteStore

Findings = tuple[list[Problem], list[str]]  # problems (failures) and notes


def compare_head(
    station: str,
    head: ChainHead,
    newest: StoredRecord | None,
    sha256_at: Callable[[int], str | None],
    *,
    anchor: str,
) -> Problem | str | None:
    """A station's anchored ``head`` against its ``newest`` stored record: a Problem, a note, or None."""
    last = None if newest is None else ChainHead(newest.seq, chain_hash(newest.jws))
    check = check_head(head, last=last, sha256_at=sha256_at, anchor=anchor)
    if check.problem is not None:
        return Problem(-1, station, head.seq, None, check.problem)
    return None if check.note is None else f"station {station}: {check.note}"


def head_file_findings(
    store: SqliteStore, newest: Mapping[str, StoredRecord], trusted_keys: Mapping[str, Ed25519PublicKey]
) -> Findings:
    """The store against its signed head file (``records.head`` beside it)."""
    head_file = HeadFile(head_path(store.path, RECORDS), RECORDS)
    problems: list[Problem] = []
    notes: list[str] = []
    try:
        head = head_file.verified(trusted_keys)
    except RecordError as exc:
        return [Problem(-1, None, None, None, str(exc))], notes
    if head is None:
        if newest:
            notes.append(
                f"no head file {head_file.path}: a store written before head files (or the file was "
                "removed), so deleted newest records could not show here; the station writes one when it "
                "next opens the store"
            )
        return problems, notes
    for station in sorted(set(newest) - set(head.chains)):
        notes.append(f"station {station}: the head file {head_file.path} does not anchor it yet")
    for station, chain_head in sorted(head.chains.items()):
        finding = compare_head(
            station, chain_head, newest.get(station), _sha256_at(store, station), anchor="the head file"
        )
        _sort(finding, problems, notes)
    return problems, notes


def line_findings(
    line: RecordStore, local: RecordStore, stations: Iterable[str], newest: Mapping[str, StoredRecord]
) -> Findings:
    """The store against the line database: the line holding a later record of a station shows a deleted tail.

    The line's newest record of a station is its signed head there (pushed by the sync); a line behind
    the store is the usual state (records not synced yet) and says nothing.
    """
    problems: list[Problem] = []
    for station in sorted(set(stations)):
        try:
            held = line.last(station)
        except RecordError as exc:
            return problems, [f"the line database was not reached, the store is not compared with it: {exc}"]
        if held is None:
            continue
        finding = compare_head(
            station,
            ChainHead(held.seq, chain_hash(held.jws)),
            newest.get(station),
            _sha256_at(local, station),
            anchor="the line database",
        )
        if isinstance(finding, Problem):
            problems.append(finding)
    return problems, []


def run_findings(store: SqliteStore, record_ids: set[str]) -> list[Problem]:
    """Closed runs, and records the sync noted, that name a record the store no longer holds."""
    with store.connect() as connection:
        runs = connection.execute(
            "SELECT run_id, slot, record_id FROM runs WHERE record_id IS NOT NULL ORDER BY started, run_id"
        ).fetchall()
        synced = connection.execute(
            "SELECT s.station_id, s.seq, s.state FROM sync_state s LEFT JOIN records r "
            "ON r.station_id = s.station_id AND r.seq = s.seq WHERE r.seq IS NULL ORDER BY 1, 2"
        ).fetchall()
    problems = [
        Problem(
            -1,
            None,
            None,
            record_id,
            f"run {run_id} (slot {slot}) closed with this record, which is not in the store",
        )
        for run_id, slot, record_id in runs
        if record_id not in record_ids
    ]
    problems += [
        Problem(
            -1,
            station,
            seq,
            None,
            f"the sync state says this record was {state}, but the store has no such record",
        )
        for station, seq, state in synced
    ]
    return problems


def _sha256_at(store: RecordStore, station: str) -> Callable[[int], str | None]:
    def sha256_at(seq: int) -> str | None:
        record = store.at(station, seq)
        return None if record is None else chain_hash(record.jws)

    return sha256_at


def _sort(finding: Problem | str | None, problems: list[Problem], notes: list[str]) -> None:
    if isinstance(finding, Problem):
        problems.append(finding)
    elif finding is not None:
        notes.append(finding)
