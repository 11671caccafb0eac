"""What the RMA flow decides from what it read: is the certificate ours, what do the records say.

>>> identity_text("2023b758c209269a", "0123eb561f5ea073ee", eid=None)
'devid 2023b758c209269a, secure element 0123eb561f5ea073ee'
>>> identity_text(None, None, eid="f00dfeed")       # before a login, a personalised unit shows only this
'eid f00dfeed'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography import x509

from station.core import codec
from station.core.errors import VerificationError
from station.devices.ppa import protocol
from station.devices.ppa.replies import ProvisionedAttestation
from station.factory.ca import verify_device_certificate
from station.records.entries import StoredRecord

MAX_SHOWN = 20  # records listed in a step's detail (the newest); ``station records show`` lists them all


def issuer_reason(attestation: ProvisionedAttestation, ca: x509.Certificate) -> str | None:
    """Why the certificate the secure element carries is not one our factory CA issued, or None."""
    certificate = attestation.certificate
    try:
        verify_device_certificate(codec.b64decode(attestation.crt), ca, at=certificate.not_valid_before_utc)
    except VerificationError as exc:
        return str(exc)
    return None


def foreign_reason(attestation: ProvisionedAttestation, ca: x509.Certificate, *, now: int) -> str | None:
    """Why the certificate is not ours or not this secure element's (its key), or None when it is both."""
    reason = issuer_reason(attestation, ca)
    if reason is not None:
        return reason
    key = attestation.certificate.public_key()
    try:
        protocol.verify_genuine(attestation.genuine, key, now=now)  # type: ignore[arg-type]
    except VerificationError as exc:
        return f"the secure element does not prove it holds the certificate's key ({exc})"
    return None


def summary(record: StoredRecord) -> dict[str, Any]:
    """A record as an RMA step's detail lists it (public values only)."""
    return {
        "record_id": record.record_id,
        "mode": record.mode,
        "outcome": record.outcome,
        "station": record.station_id,
        "seq": record.seq,
        "finished": record.finished,
    }


def history_lines(records: Iterable[StoredRecord]) -> list[str]:
    """The unit's history for the operator's log, oldest first."""
    return [
        f"history: {record.mode} {record.outcome.upper()} {record.finished} "
        f"station {record.station_id} seq {record.seq}, record {record.record_id}"
        for record in records
    ]


def identity_text(devid: str | None, genuine_id: str | None, eid: str | None) -> str:
    """``devid D, secure element G`` with whatever is known."""
    parts = [f"devid {devid}" if devid else "", f"secure element {genuine_id}" if genuine_id else ""]
    parts.append("" if any(parts) else f"eid {eid}")
    return ", ".join(part for part in parts if part)


def se_changed_note(current: StoredRecord, genuine_id: str | None) -> str:
    """A note when the board's secure element is not the one its record names (a repaired board)."""
    if genuine_id is None or current.genuine_id in (None, genuine_id):
        return ""
    return f"; its secure element changed (was {current.genuine_id}, now {genuine_id}: a repaired board)"
