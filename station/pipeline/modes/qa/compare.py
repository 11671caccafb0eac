"""QA's verdict on one unit: what it says now against what its record says, field by field.

>>> from dataclasses import replace; from station.labels.content import SAMPLE_RECORD as rec
>>> seen = Observed(devid=rec.unit.devid, genuine_id=rec.unit.genuine_id, hwv="PPA rev 2.1", fwv="v1.2.4")
>>> findings, notes = compare(seen, replace(rec, unit=replace(rec.unit, hwv="PPA rev 2.2")))
>>> [str(finding) for finding in findings], notes             # a newer firmware is only a note
(["hwv: record says 'PPA rev 2.2', unit has 'PPA rev 2.1'"],
 ["fwv: upgraded from 'Encedo nGINE FW v1.2.2' to 'v1.2.4' since the record"])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from station.core.errors import ProtocolError
from station.devices.ppa import protocol
from station.factory.firmware import needs_upgrade
from station.records.model import UnitIdentity
from station.records.payload import RecordPayload

EXACT = ("devid", "genuine_id", "hwv", "eid", "eid_sign", "instanceid")
VERSIONED = ("fwv", "blv")
GENUINE_MAX_AGE, GENUINE_MAX_AHEAD = 600, 60  # seconds on the unit's clock (reference §18.2)


@dataclass(frozen=True)
class Finding:
    """One mismatching field: what the record says, what the unit says, and in what way they differ."""

    field: str
    recorded: str | None
    found: str | None
    why: str = ""

    def __str__(self) -> str:
        if self.recorded is None and self.found is None:
            return f"{self.field}: {self.why}"
        text = f"{self.field}: record says {self.recorded!r}, unit has {self.found!r}"
        return f"{text} ({self.why})" if self.why else text

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "recorded": self.recorded, "found": self.found, "why": self.why}


@dataclass
class Observed:
    """What the unit said in this QA run (None: not read, e.g. no login on a unit not personalised)."""

    inited: bool | None = None
    hwv: str | None = None
    fwv: str | None = None
    blv: str | None = None
    eid: str | None = None  # token challenge
    lbl: str | None = None  # token challenge
    genuine_id: str | None = None  # the certificate's subject
    crt_sha256: str | None = None
    attestation_key_sha1: str | None = None
    devid: str | None = None  # configuration (read with a token)
    config_eid: str | None = None
    config_genuine_id: str | None = None
    eid_sign: str | None = None
    instanceid: str | None = None


def compare(seen: Observed, record: RecordPayload) -> tuple[list[Finding], list[str]]:
    """Every mismatch between ``seen`` and the (verified) ``record`` payload, and the notes."""
    unit = record.ppa_unit or UnitIdentity()
    provisioning = record.provisioning
    findings: list[Finding] = []
    notes: list[str] = []
    for name in EXACT:
        _exact(name, getattr(unit, name), getattr(seen, name), findings, notes)
    for name in VERSIONED:
        _versioned(name, getattr(unit, name), getattr(seen, name), findings, notes)
    for name in ("crt_sha256", "attestation_key_sha1"):
        recorded = None if provisioning is None else getattr(provisioning, name)
        _exact(name, recorded, getattr(seen, name), findings, notes)
    personalization = record.personalization
    if personalization is not None:
        _exact("lbl", personalization.get("user"), seen.lbl, findings, notes)
        if seen.inited is False:
            findings.append(Finding("inited", "true", "false", "the record personalised it; it is blank now"))
    findings.extend(self_consistency(seen))
    return findings, notes


def self_consistency(seen: Observed) -> list[Finding]:
    """Where the unit's own answers disagree: the configuration against the challenge and certificate."""
    pairs = (("eid", seen.eid, seen.config_eid), ("genuine_id", seen.genuine_id, seen.config_genuine_id))
    return [
        Finding(f"{name} (configuration)", first, second, "the unit's answers disagree")
        for name, first, second in pairs
        if first is not None and second is not None and first != second
    ]


def attestation_findings(
    certificate: x509.Certificate, genuine: str, *, now: int, ca: x509.Certificate
) -> list[Finding]:
    """What is wrong with the attestation ``{crt, genuine}`` the unit gave, at device time ``now``."""
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return [Finding("crt.key", None, None, "the certificate does not hold a P-256 attestation key")]
    return [*_genuine_findings(genuine, key, now), *_issuer_findings(certificate, ca)]


def _genuine_findings(token: str, key: ec.EllipticCurvePublicKey, now: int) -> list[Finding]:
    try:
        genuine = protocol.parse_genuine(token)
    except ProtocolError as exc:
        return [Finding("genuine", None, None, f"the token is malformed: {exc}")]
    findings = []
    ski = protocol.attestation_ski(key)
    if genuine.ski != ski:
        why = f"made by key {genuine.ski.hex()}, not by the certificate's key {ski.hex()}"
        findings.append(Finding("genuine.key", None, None, why))
    try:
        key.verify(genuine.signature, str(genuine.timestamp).encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        findings.append(
            Finding("genuine.signature", None, None, "does not verify with the certificate's key")
        )
    if not now - GENUINE_MAX_AGE <= genuine.timestamp <= now + GENUINE_MAX_AHEAD:
        why = f"issued at {genuine.timestamp}, unit time {now}: not within {GENUINE_MAX_AGE} s"
        findings.append(Finding("genuine.freshness", None, None, why))
    return findings


def _issuer_findings(certificate: x509.Certificate, ca: x509.Certificate) -> list[Finding]:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        issuer, ours = certificate.issuer.rfc4514_string(), ca.subject.rfc4514_string()
        why = (
            f"the certificate (issuer {issuer}) is not issued by the factory CA ({ours}): its signature fails"
        )
        return [Finding("crt.issuer", None, None, why)]
    return []


def _exact(name: str, recorded: Any, found: str | None, findings: list[Finding], notes: list[str]) -> None:
    if found is None:
        if recorded is not None:
            notes.append(f"{name}: not compared (the unit did not give it)")
        return
    if recorded != found:
        findings.append(Finding(name, _text(recorded), found))


def _versioned(
    name: str, recorded: Any, found: str | None, findings: list[Finding], notes: list[str]
) -> None:
    if found is None or recorded is None or recorded == found:
        _exact(name, recorded, found, findings, notes)
        return
    try:
        newer, older = needs_upgrade(str(recorded), found), needs_upgrade(found, str(recorded))
    except ProtocolError:
        findings.append(Finding(name, _text(recorded), found, "no comparable version number"))
        return
    if newer:
        notes.append(f"{name}: upgraded from {recorded!r} to {found!r} since the record")
    else:
        why = "older than recorded" if older else "another build of the same version"
        findings.append(Finding(name, _text(recorded), found, why))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
