"""Verifying a unit's audit-log file (reference §7.4, §18.10): the station's reader of ``/api/logger``.

>>> eid_sign, log_key = ed25519.Ed25519PrivateKey.generate(), bytes(range(32))
>>> line = f"0|65a0b0c0|0|0|{b64url_encode(log_key)}|{b64url_encode(eid_sign.sign(log_key))}|"
>>> text, key = line + log_line_mac(log_key, line), eid_sign.public_key().public_bytes_raw()
>>> [(record.seq, record.type) for record in verify_audit_log(text, key)]   # KEY_INIT only; a bad line raises
[(0, 0)]
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64decode, b64url_encode
from station.core.errors import VerificationError
from station.devices.ppa.protocol import hs256


def log_line_mac(log_key: bytes, line_without_mac: str) -> str:
    """MAC of one audit-log record: first 16 bytes of HMAC-SHA256 over the text up to the last ``|``."""
    return b64url_encode(hs256(log_key, line_without_mac.encode("utf-8"))[:16])


@dataclass(frozen=True)
class LogRecord:
    """One verified audit-log record."""

    seq: int
    ts: int
    type: int
    result: int
    subject: str
    data: str


def verify_audit_log(text: str, signing_key: bytes) -> list[LogRecord]:
    """Verify an audit-log file: KEY_INIT signed by ``eid_sign``, per-line MACs, ``seq`` continuity.

    ``signing_key`` is the raw Ed25519 public key from ``/api/logger/key``. Raises VerificationError
    naming the first bad line.
    """
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    if not lines:
        raise VerificationError("audit log has no records")
    records: list[LogRecord] = []
    log_key = b""
    for number, line in enumerate(lines):
        fields = line.split("|")
        if len(fields) != 7:
            raise VerificationError(f"audit log record {number} does not have 7 fields")
        try:
            record = LogRecord(
                int(fields[0], 16),
                int(fields[1], 16),
                int(fields[2], 16),
                int(fields[3]),
                fields[4],
                fields[5],
            )
        except ValueError:
            raise VerificationError(f"audit log record {number} has a non-numeric field") from None
        if number == 0:
            log_key = _verify_key_init(record, signing_key)
        if record.seq != number:
            raise VerificationError(f"audit log sequence broken at record {number} (seq {record.seq})")
        if not hmac.compare_digest(log_line_mac(log_key, line[: line.rfind("|") + 1]), fields[6]):
            raise VerificationError(f"audit log record {number} has a bad MAC")
        records.append(record)
    return records


def _verify_key_init(record: LogRecord, signing_key: bytes) -> bytes:
    if record.type != 0:
        raise VerificationError("audit log does not start with KEY_INIT")
    log_key = b64decode(record.subject)
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(signing_key).verify(b64decode(record.data), log_key)
    except (InvalidSignature, ValueError):
        raise VerificationError("audit log key is not signed by the unit's eid_sign key") from None
    return log_key
