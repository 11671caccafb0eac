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
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError, SignatureError
from station.records import jws
from station.records.certificates import check_certificate
from station.records.model import GENESIS_PREV, ProvisioningEvidence, chain_hash
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


class RecordFacts(NamedTuple):
    """What the store and registry checks need of a verified record: small, so a worker process can send
    it back cheaply (``check.fanout``)."""

    station_id: str
    seq: int
    record_id: str
    prev: str
    devid: str | None  # the store's devid column: a reader's DeviceId
    genuine_id: str | None
    mode: str
    outcome: str
    finished: str  # when the run ended: the registry's provisioned_at for a passing production record
    simulated: bool  # a simulated unit's record, which only a test line database takes

    @classmethod
    def of(cls, record: RecordPayload) -> RecordFacts:
        devid, genuine_id = record.index_ids
        return cls(
            record.station.id, record.seq, record.record_id, record.prev, devid, genuine_id,
            record.mode, record.outcome, record.finished, record.simulated,
        )  # fmt: skip

    @property
    def index_ids(self) -> tuple[str | None, str | None]:
        return self.devid, self.genuine_id

    @property
    def production_pass(self) -> bool:
        return self.mode == "production" and self.outcome == "pass"


class Outcome(NamedTuple):
    """One record checked on its own (everything but its place in the chain)."""

    identity: tuple[str | None, int | None, str | None]  # station, seq, record id as the payload states
    facts: RecordFacts | None  # of the verified record; None if it could not be verified
    reason: str | None  # the first problem, if any
    digest: str  # chain_hash of the text: the next record's prev


class CertificateCache:
    """``check_certificate`` verdicts per distinct certificate evidence, for one CA.

    A chain names the same certificate more than once when a unit is re-provisioned or re-checked; its
    parsing and CA signature check are then done once. Bounded: cleared when full.
    """

    LIMIT = 4096

    def __init__(self, ca_certificate: x509.Certificate | None) -> None:
        self.ca_certificate = ca_certificate
        self._verdicts: dict[ProvisioningEvidence, str | None] = {}

    def check(self, provisioning: ProvisioningEvidence) -> str | None:
        try:
            return self._verdicts[provisioning]
        except KeyError:
            pass
        verdict = check_certificate(provisioning, self.ca_certificate)
        if len(self._verdicts) >= self.LIMIT:
            self._verdicts.clear()
        self._verdicts[provisioning] = verdict
        return verdict


def check_record(
    text: str,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    certificates: CertificateCache,
    *,
    typed: bool = True,
) -> tuple[Outcome, RecordPayload | None]:
    """Check one record on its own: JWS form, signature, schema, signer, certificate.

    Returns the outcome and (``typed``) the verified record as typed fields, None if unverifiable.
    Pure: the same text gives the same answer in any process, which is what lets ``check.fanout``
    spread records over processes. Untyped (``typed=False``, the fan-out's workers) it reads the few
    fields it needs straight from the validated payload instead of building a ``RecordPayload``: a
    payload ``validate_payload`` accepts always parses (it asks more of every field ``RecordPayload``
    reads), so the verdict is the same (tests/records/test_fanout.py compares both roads).
    """
    try:
        parsed = jws.parse(text)
    except RecordError as exc:
        return Outcome((None, None, None), None, f"malformed JWS: {exc}", chain_hash(text)), None
    digest = chain_hash(text)
    identity = _identity(parsed.payload)
    key = trusted_keys.get(parsed.kid)
    if key is None:
        return Outcome(identity, None, f"signed by unknown key {parsed.kid}", digest), None
    record: RecordPayload | None = None
    try:
        payload = _verified(parsed, key)
        validate_payload(payload, canonical=parsed.payload_json)
        if typed:
            record = RecordPayload.parse(payload)
            facts, key_id, provisioning = RecordFacts.of(record), record.station.key_id, record.provisioning
        else:
            facts, key_id, provisioning = _facts(payload)
    except RecordError as exc:
        return Outcome(identity, None, str(exc), digest), None
    reason = None
    if key_id != parsed.kid:
        reason = f"station.key_id {key_id} is not the signing key {parsed.kid}"
    elif provisioning is not None:
        reason = certificates.check(provisioning)
    return Outcome(identity, facts, reason, digest), record


def _facts(payload: Mapping[str, Any]) -> tuple[RecordFacts, str, ProvisioningEvidence | None]:
    """The facts, signer key id and certificate evidence of a payload ``validate_payload`` accepted."""
    unit, station = payload["unit"], payload["station"]
    if payload["mode"] == "readers":
        devid, genuine_id = unit["device_id"], None
    else:
        devid, genuine_id = unit.get("devid"), unit.get("genuine_id")
    facts = RecordFacts(
        station["id"], payload["seq"], payload["record_id"], payload["prev"], devid, genuine_id,
        payload["mode"], payload["outcome"], payload["finished"], payload["simulated"],
    )  # fmt: skip
    block = payload.get("provisioning")
    provisioning = None
    if block is not None:
        confirmed = block.get("confirmed")
        provisioning = ProvisioningEvidence(
            block["crt"],
            block["crt_sha256"],
            block["attestation_key_sha1"],
            block.get("refusal_status"),
            True if confirmed is None else confirmed,
        )
    return facts, station["key_id"], provisioning


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
        self.certificates = CertificateCache(ca_certificate)
        self._links: dict[str, _Link] = {}
        self._problems: list[Problem] = []
        self._notes: list[str] = []
        self._checked = 0

    def feed(self, text: str, hint: Hint | None = None) -> tuple[RecordPayload | None, Problem | None]:
        """Check one record; returns its verified payload, typed (None if unverifiable), and its problem."""
        outcome, record = check_record(text, self.trusted_keys, self.certificates)
        problem = self.place(outcome, hint)
        return (record if problem is None else None), problem

    def place(self, outcome: Outcome, hint: Hint | None = None) -> Problem | None:
        """Take the next record in chain order, checked on its own already (``check_record``, maybe in
        another process): follow its chain link; its problem, if any."""
        index = self._checked
        self._checked += 1
        reason = outcome.reason
        name = (hint.station, hint.seq, hint.record_id) if hint is not None else outcome.identity
        facts = outcome.facts
        if reason is None and facts is not None:
            reason = self._follow(facts.station_id, facts.seq, facts.prev, outcome.digest)
        elif name[0] is not None and name[1] is not None:
            self._advance(name[0], name[1], outcome.digest)
        problem = None if reason is None else Problem(index, *name, reason)
        if problem is not None:
            self._problems.append(problem)
        return problem

    @property
    def checked(self) -> int:
        """How many records have been fed so far (the next record's index)."""
        return self._checked

    def continue_from(self, station: str, seq: int, text: str) -> None:
        """Check ``station``'s records from ``seq + 1`` on, linking to ``text``, its record ``seq``.

        For a verifier that holds a chain's verified prefix elsewhere (the sync: the line database).
        """
        self._advance(station, seq, chain_hash(text))

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

    def _follow(self, station: str, seq: int, prev: str, digest: str) -> str | None:
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
        self._advance(station, seq, digest)
        return reason

    def _advance(self, station: str, seq: int, digest: str) -> None:
        link = self._links.setdefault(station, _Link())
        link.seq = max(link.seq, seq)
        link.prev = digest


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
