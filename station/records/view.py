"""A stored record made readable, with its own verification: the logic behind ``station records show``.

>>> import tempfile
>>> row = StoredRecord("line1-st01", 1, "rec-1", None, None, "qa", "pass", "2025-01-02", "a.b.c", payload={})
>>> with tempfile.TemporaryDirectory() as folder:           # a damaged row: its columns, and what failed
...     view = record_view(SqliteStore(f"{folder}/records.sqlite3"), row, trusted_keys={})
...     view.outcome, view.checks.signature, view.checks.ok, view.line
('pass', 'FAILED: protected header is not base64url text', False, 'not sent yet')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.records import jws
from station.records.certificates import CertificateInfo, check_certificate, describe_certificate
from station.records.entries import StoredRecord
from station.records.history import superseded_by
from station.records.line import state as syncstate
from station.records.model import GENESIS_PREV, ProvisioningEvidence, chain_hash
from station.records.payload import PayloadStep
from station.records.store import RecordStore
from station.records.store.sqlite import SqliteStore
from station.records.validate import SEALED, validate_payload

NOT_CHECKED = "not checked"
UNIT_ORDER = ("devid", "genuine_id", "eid", "eid_sign", "instanceid", "hwv", "fwv", "blv")


@dataclass(frozen=True)
class StepLine:
    name: str
    outcome: str
    attempts: int
    started: str
    seconds: float | None


@dataclass(frozen=True)
class Checks:
    """Verification of this one record: signature, link to its predecessor, certificate."""

    signature: str
    chain: str
    certificate: str
    ok: bool


@dataclass(frozen=True)
class RecordView:
    record_id: str
    station: str
    seq: int
    mode: str
    outcome: str
    simulated: bool
    started: str
    finished: str
    fixture: Mapping[str, Any]
    operator: Mapping[str, Any]
    unit: Mapping[str, Any]
    steps: tuple[StepLine, ...]
    failure: Mapping[str, Any] | None
    certificate: CertificateInfo | None
    certificate_confirmed: bool  # read back from the unit; False: issued and sent, never read back
    personalization: Mapping[str, Any] | None
    sealed_secrets: tuple[str, ...]
    links: Mapping[str, Any]
    checks: Checks
    line: str = "not sent yet"
    superseded_by: str | None = None  # record id of the passing record whose links.supersedes names it


def record_view(
    store: RecordStore,
    stored: StoredRecord,
    *,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    ca_certificate: x509.Certificate | None = None,
) -> RecordView:
    """The readable view of ``stored`` (payload read unverified; ``checks`` says what verified).

    A payload too damaged to read shows the stored columns only; its signature check says what is wrong.
    """
    record = stored.readable
    personalization = None if record is None else record.personalization
    public = None if personalization is None else {k: v for k, v in personalization.items() if k != SEALED}
    sealed = () if personalization is None else tuple(sorted(personalization.get(SEALED) or ()))
    return RecordView(
        record_id=stored.record_id,
        station=stored.station_id,
        seq=stored.seq,
        mode=stored.mode,
        outcome=stored.outcome,
        simulated=record is not None and record.simulated,
        started="" if record is None else record.started,
        finished="" if record is None else record.finished,
        fixture={} if record is None else fields_of(record.fixture),
        operator={} if record is None else fields_of(record.operator),
        unit={} if record is None else _ordered(fields_of(record.unit), UNIT_ORDER),
        steps=() if record is None else tuple(_step_line(step) for step in record.steps),
        failure=None if record is None or record.failure is None else fields_of(record.failure),
        certificate=None if record is None else _certificate(record.provisioning),
        certificate_confirmed=record is None or record.provisioning is None or record.provisioning.confirmed,
        personalization=None if public is None else _ordered(public, ("profile",)),
        sealed_secrets=sealed,
        links={} if record is None else fields_of(record.links),
        checks=_checks(store, stored, trusted_keys, ca_certificate),
        line=line_status(store, stored),
        superseded_by=_superseder(store, stored),
    )


def _superseder(store: RecordStore, stored: StoredRecord) -> str | None:
    newer = superseded_by(store, stored.record_id)
    return None if newer is None else newer.record_id


def line_status(store: RecordStore, stored: StoredRecord) -> str:
    """Whether ``stored`` has reached the line database, in words (``station records show``)."""
    if not isinstance(store, SqliteStore):
        return "held (this is the line database)"
    state = syncstate.status(store, stored.station_id, stored.seq)
    if state is None:
        return "not sent yet"
    if state.state == syncstate.SENT:
        return f"sent {state.at}"
    return f"REFUSED {state.at}: {state.reason} (the record is kept here)"


def seconds_between(started: str, finished: str) -> float | None:
    """Duration between two RFC 3339 times, or None if either is unreadable."""
    try:
        return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return None


def _ordered(values: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """``values`` with the ``first`` keys in that order, then the rest (canonical JSON sorted them)."""
    return {key: values[key] for key in (*first, *values) if key in values}


def fields_of(value: Any) -> dict[str, Any]:
    """A record block (a frozen dataclass) as the name → value mapping the view shows."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _step_line(step: PayloadStep) -> StepLine:
    return StepLine(
        name=step.name,
        outcome=step.outcome,
        attempts=step.attempts,
        started=step.started,
        seconds=seconds_between(step.started, step.finished),
    )


def _certificate(provisioning: ProvisioningEvidence | None) -> CertificateInfo | None:
    if provisioning is None:
        return None
    try:
        return describe_certificate(provisioning.crt)
    except ValueError:
        return None


def _checks(
    store: RecordStore,
    stored: StoredRecord,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None,
    ca: x509.Certificate | None,
) -> Checks:
    signature, signature_ok = _signature(stored, trusted_keys)
    chain, chain_ok = _chain(store, stored)
    certificate, certificate_ok = _certificate_check(stored, ca)
    return Checks(signature, chain, certificate, signature_ok and chain_ok and certificate_ok)


def _signature(stored: StoredRecord, trusted_keys: Mapping[str, Ed25519PublicKey] | None) -> tuple[str, bool]:
    if trusted_keys is None:
        return f"{NOT_CHECKED} (no trusted keys given)", True
    try:
        header, _ = jws.peek(stored.jws)
        key = trusted_keys.get(header["kid"])
        if key is None:
            return f"FAILED: signed by unknown key {header['kid']}", False
        validate_payload(jws.verify(stored.jws, key))
    except RecordError as exc:
        return f"FAILED: {exc}", False
    return f"valid (key {header['kid']})", True


def _chain(store: RecordStore, stored: StoredRecord) -> tuple[str, bool]:
    if stored.seq == 1:
        expected, what = GENESIS_PREV, "first record of the station"
    else:
        previous = store.at(stored.station_id, stored.seq - 1)
        if previous is None:
            return f"FAILED: seq {stored.seq - 1} of station {stored.station_id} is missing", False
        expected, what = chain_hash(previous.jws), f"links to seq {stored.seq - 1}"
    try:
        prev = stored.parsed.prev
    except RecordError as exc:
        return f"FAILED: {exc}", False
    if prev != expected:
        return "FAILED: prev does not match the previous record", False
    return what, True


def _certificate_check(stored: StoredRecord, ca: x509.Certificate | None) -> tuple[str, bool]:
    try:
        provisioning = stored.parsed.provisioning
    except RecordError as exc:
        return f"FAILED: {exc}", False
    if provisioning is None:
        return "none in this record", True
    try:
        reason = check_certificate(provisioning, ca)
    except ValueError:
        reason = "provisioning block is malformed"
    if reason is not None:
        return f"FAILED: {reason}", False
    if ca is None:
        return f"matches the record; issuer {NOT_CHECKED} (no CA given)", True
    return "issued by the factory CA", True
