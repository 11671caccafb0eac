"""Checking a chain of records the way an auditor would: signatures, links, schema, certificates.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = Ed25519PrivateKey.generate(); text = jws.sign({"seq": 1}, key, jws.key_id(key.public_key()))
>>> verify_chain([text], trusted_keys={}).first.reason                      # only the keys you trust count
'signed by unknown key ...'
>>> verify_chain([text], jws.trusted_keys_from([key.public_key()])).first.reason     # signed, but no record
"schema is not 'ppa-station/record/1'"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError, SignatureError
from station.records import jws
from station.records.certificates import check_certificate
from station.records.model import GENESIS_PREV, chain_hash
from station.records.payload import RecordPayload
from station.records.validate import validate_payload


@dataclass(frozen=True)
class Problem:
    """One bad record: ``index`` is its position in the input; identity fields are None if unreadable."""

    index: int
    station: str | None
    seq: int | None
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        named = (("station", self.station), ("seq", self.seq), ("record", self.record_id))
        name = " ".join(f"{what} {value}" for what, value in named if value is not None)
        return f"{name}: {self.reason}" if name else self.reason


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    stations: Mapping[str, int]  # station id → highest seq seen
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()  # worth saying, not a failure (e.g. a head file one behind after a crash)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


@dataclass(frozen=True)
class Hint:
    """What the store's columns say about a record, to name it when its JWS cannot be read."""

    station: str
    seq: int
    record_id: str


@dataclass
class _Link:
    seq: int = 0
    prev: str = GENESIS_PREV


class ChainVerifier:
    """Feed records one at a time in chain order; ``report()`` sums up."""

    def __init__(
        self, trusted_keys: Mapping[str, Ed25519PublicKey], ca_certificate: x509.Certificate | None = None
    ) -> None:
        self.trusted_keys = trusted_keys
        self.ca_certificate = ca_certificate
        self._links: dict[str, _Link] = {}
        self._problems: list[Problem] = []
        self._notes: list[str] = []
        self._checked = 0

    def feed(self, text: str, hint: Hint | None = None) -> tuple[RecordPayload | None, Problem | None]:
        """Check one record; returns its verified payload, typed (None if unverifiable), and its problem."""
        index = self._checked
        self._checked += 1
        payload, record, reason = self._check(text)
        name = (hint.station, hint.seq, hint.record_id) if hint is not None else _identity(payload)
        if reason is None and record is not None:
            reason = self._follow(record.station.id, record.seq, record.prev, text)
        elif name[0] is not None and name[1] is not None:
            self._advance(name[0], name[1], text)
        problem = None if reason is None else Problem(index, *name, reason)
        if problem is not None:
            self._problems.append(problem)
        return (record if reason is None else None), problem

    @property
    def checked(self) -> int:
        """How many records have been fed so far (the next record's index)."""
        return self._checked

    def continue_from(self, station: str, seq: int, text: str) -> None:
        """Check ``station``'s records from ``seq + 1`` on, linking to ``text``, its record ``seq``.

        For a verifier that holds a chain's verified prefix elsewhere (the sync: the line database).
        """
        self._advance(station, seq, text)

    def add_problem(self, problem: Problem) -> None:
        """Record a problem found outside the chain (stored columns, registry, file integrity)."""
        self._problems.append(problem)

    def add_note(self, note: str) -> None:
        """Record something the report should say that is not a problem."""
        self._notes.append(note)

    def report(self) -> VerifyReport:
        stations = {station: link.seq for station, link in sorted(self._links.items())}
        problems = tuple(sorted(self._problems, key=lambda problem: problem.index))
        return VerifyReport(self._checked, stations, problems, tuple(self._notes))

    def _check(self, text: str) -> tuple[dict[str, Any] | None, RecordPayload | None, str | None]:
        """(the payload as it reads, unverified; the verified record; the first problem)."""
        try:
            parsed = jws.parse(text)
        except RecordError as exc:
            return None, None, f"malformed JWS: {exc}"
        key = self.trusted_keys.get(parsed.kid)
        if key is None:
            return parsed.payload, None, f"signed by unknown key {parsed.kid}"
        try:
            payload = _verified(parsed, key)
            validate_payload(payload)
            record = RecordPayload.parse(payload)
        except RecordError as exc:
            return parsed.payload, None, str(exc)
        if record.station.key_id != parsed.kid:
            signer = f"station.key_id {record.station.key_id} is not the signing key {parsed.kid}"
            return payload, record, signer
        if record.provisioning is not None:
            return payload, record, check_certificate(record.provisioning, self.ca_certificate)
        return payload, record, None

    def _follow(self, station: str, seq: int, prev: str, text: str) -> str | None:
        link = self._links.setdefault(station, _Link())
        expected = link.seq + 1
        reason = None
        if seq != expected:
            gap = "out of order or repeated"
            if seq > expected:
                gap = (
                    f"record {expected} missing"
                    if seq == expected + 1
                    else f"records {expected}-{seq - 1} missing"
                )
            reason = f"seq {seq} where {expected} was expected ({gap})"
        elif prev != link.prev:
            reason = (
                "prev does not match the SHA-256 of the station's previous record"
                if seq > 1
                else "first record's prev is not 64 zeros"
            )
        self._advance(station, seq, text)
        return reason

    def _advance(self, station: str, seq: int, text: str) -> None:
        link = self._links.setdefault(station, _Link())
        link.seq = max(link.seq, seq)
        link.prev = chain_hash(text)


def _verified(parsed: jws.ParsedJws, key: Ed25519PublicKey) -> dict[str, Any]:
    """``jws.verify`` on a record parsed once already: parsing is most of the cost of a long chain."""
    expected = jws.key_id(key)
    if parsed.kid != expected:
        raise SignatureError(f"record is signed by key {parsed.kid}, not by the given key {expected}")
    try:
        key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        raise SignatureError(f"signature does not verify with key {expected}") from None
    return parsed.payload


def verify_chain(
    records: Iterable[str],
    trusted_keys: Mapping[str, Ed25519PublicKey],
    ca_certificate: x509.Certificate | None = None,
) -> VerifyReport:
    """Verify compact JWS texts given in chain order (per station: seq 1, 2, 3 ...)."""
    verifier = ChainVerifier(trusted_keys, ca_certificate)
    for text in records:
        verifier.feed(text)
    return verifier.report()


def _identity(payload: Mapping[str, Any] | None) -> tuple[str | None, int | None, str | None]:
    """Station, seq and record id as the (possibly unverified) payload states them, to name a record."""
    if payload is None:
        return None, None, None
    station = payload.get("station")
    station_id = station.get("id") if isinstance(station, Mapping) else None
    seq = payload.get("seq")
    record_id = payload.get("record_id")
    return (
        station_id if isinstance(station_id, str) else None,
        seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        record_id if isinstance(record_id, str) else None,
    )
