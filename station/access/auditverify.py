"""Checking the station audit log: signatures, the chain, and that the table's columns match what was signed.

>>> report = verify_audit([], trusted_keys={})
>>> report.ok, report.last_seq, report.first
(True, 0, None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.access.audit import AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_SCHEMA, AuditEntry, read_audit
from station.core.errors import RecordError
from station.records import jws
from station.records.head import AUDIT, ChainHead, HeadFile, check_head, head_path
from station.records.model import GENESIS_PREV, chain_hash
from station.records.store.sqlite import SqliteStore

_FIELDS = {"schema", "seq", "prev", "time", "actor", "action", "detail", "outcome"}
_NO_HEAD = (
    "no audit head file {path}: a log written before head files (or the file was removed), so deleted "
    "newest entries could not show here; the station writes one when it next opens the log (a login, "
    "an account command)"
)


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.reason}"


@dataclass(frozen=True)
class AuditReport:
    checked: int
    last_seq: int
    problems: tuple[AuditProblem, ...]
    notes: tuple[str, ...] = ()  # worth saying, not a failure (e.g. the head file one behind after a crash)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None


def verify_audit(entries: Iterable[AuditEntry], trusted_keys: Mapping[str, Ed25519PublicKey]) -> AuditReport:
    """Check every entry; the report names each bad entry once, the first one first."""
    problems: list[AuditProblem] = []
    expected_seq, prev, checked = 1, GENESIS_PREV, 0
    for entry in entries:
        checked += 1
        reason = _problem(entry, trusted_keys, expected_seq, prev)
        if reason is not None:
            problems.append(AuditProblem(entry.seq, reason))
        expected_seq, prev = entry.seq + 1, chain_hash(entry.jws)
    return AuditReport(checked, expected_seq - 1, tuple(problems))


def verify_audit_log(store: SqliteStore, trusted_keys: Mapping[str, Ed25519PublicKey]) -> AuditReport:
    """``verify_audit`` of the store's whole log, then its tail against the signed audit head file."""
    entries = read_audit(store)
    report = verify_audit(entries, trusted_keys)
    head_file = HeadFile(head_path(store.path, AUDIT), AUDIT)
    try:
        head = head_file.verified(trusted_keys)
    except RecordError as exc:
        return replace(report, problems=(*report.problems, AuditProblem(report.last_seq, str(exc))))
    if head is None or AUDIT not in head.chains:
        notes = () if not entries else (_NO_HEAD.format(path=head_file.path),)
        return replace(report, notes=notes)
    anchored = head.chains[AUDIT]
    by_seq = {entry.seq: entry for entry in entries}
    last = None if not entries else ChainHead(entries[-1].seq, chain_hash(entries[-1].jws))
    check = check_head(
        anchored,
        last=last,
        sha256_at=lambda seq: chain_hash(by_seq[seq].jws) if seq in by_seq else None,
        entries="audit entries",
        store="the log",
    )
    if check.problem is not None:
        return replace(report, problems=(*report.problems, AuditProblem(anchored.seq, check.problem)))
    return replace(report, notes=() if check.note is None else (check.note,))


def _problem(
    entry: AuditEntry, trusted_keys: Mapping[str, Ed25519PublicKey], expected_seq: int, prev: str
) -> str | None:
    try:
        payload = _verified_payload(entry.jws, trusted_keys)
    except RecordError as exc:
        return str(exc)
    return (
        _schema_problem(payload)
        or _chain_problem(entry, payload, expected_seq, prev)
        or _column_problem(entry, payload)
    )


def _verified_payload(text: str, trusted_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    parsed = jws.parse(text)
    key = trusted_keys.get(parsed.kid)
    if key is None:
        raise RecordError(f"signed by key {parsed.kid}, which is not trusted (give it with --trust)")
    return jws.verify(text, key)


def _schema_problem(payload: Mapping[str, Any]) -> str | None:
    if set(payload) != _FIELDS:
        return f"payload has fields {sorted(payload)}, expected {sorted(_FIELDS)}"
    if payload["schema"] != AUDIT_SCHEMA:
        return f"schema is {payload['schema']!r}, expected {AUDIT_SCHEMA!r}"
    actor = payload["actor"]
    if not isinstance(actor, dict) or set(actor) != {"id", "role"}:
        return "actor is not {id, role}"
    if payload["action"] not in AUDIT_ACTIONS or payload["outcome"] not in AUDIT_OUTCOMES:
        return f"unknown action {payload['action']!r} or outcome {payload['outcome']!r}"
    if not isinstance(payload["detail"], dict) or not isinstance(payload["seq"], int):
        return "detail is not an object or seq is not a number"
    return None


def _chain_problem(entry: AuditEntry, payload: Mapping[str, Any], expected_seq: int, prev: str) -> str | None:
    if payload["seq"] != entry.seq:
        return f"signed seq {payload['seq']} differs from the stored seq"
    if entry.seq != expected_seq:
        return f"seq {entry.seq} does not follow {expected_seq - 1} (entries missing)"
    if payload["prev"] != prev:
        return "prev does not match the previous entry (chain broken)"
    return None


def _column_problem(entry: AuditEntry, payload: Mapping[str, Any]) -> str | None:
    stored = (entry.time, entry.actor_id, entry.actor_role, entry.action, entry.outcome)
    signed = (payload["time"], payload["actor"]["id"], payload["actor"]["role"], payload["action"],
              payload["outcome"])  # fmt: skip
    if stored != signed:
        names = ("time", "actor id", "actor role", "action", "outcome")
        changed = [name for name, a, b in zip(names, stored, signed, strict=True) if a != b]
        return f"stored {', '.join(changed)} differ from the signed entry"
    return None
