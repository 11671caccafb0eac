"""The device certificate inside a record: is it the one the record claims, issued by our factory CA?

>>> evidence = ProvisioningEvidence.from_der(b"not DER", attestation_key_sha1="0" * 40, refusal_status=406)
>>> check_certificate(evidence, None)                  # None when all is well (and, given a CA, it signed)
'provisioning.crt is not a DER X.509 certificate'
>>> check_certificate(ProvisioningEvidence(evidence.crt, "0" * 64, "0" * 40, 406), None)   # a swapped digest
'provisioning.crt_sha256 is not the SHA-256 of provisioning.crt'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from station.devices.ppa.protocol import attestation_ski
from station.records.model import ProvisioningEvidence


@dataclass(frozen=True)
class CertificateInfo:
    """What a person wants to see of a device certificate."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str


def load_certificate(crt_b64: str) -> x509.Certificate:
    """The certificate from a record's base64 DER text (ValueError if it is not one)."""
    try:
        return x509.load_der_x509_certificate(base64.b64decode(crt_b64, validate=True))
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def check_certificate(provisioning: ProvisioningEvidence, ca: x509.Certificate | None) -> str | None:
    """Why ``provisioning``'s certificate is not acceptable, or None."""
    der = base64.b64decode(provisioning.crt)
    if hashlib.sha256(der).hexdigest() != provisioning.crt_sha256:
        return "provisioning.crt_sha256 is not the SHA-256 of provisioning.crt"
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return "provisioning.crt is not a DER X.509 certificate"
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return "provisioning.crt does not hold an EC attestation key"
    if attestation_ski(key).hex() != provisioning.attestation_key_sha1:
        return "provisioning.attestation_key_sha1 does not match the certificate's key"
    if ca is not None:
        try:
            certificate.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            return f"certificate {certificate.subject.rfc4514_string()} is not issued by the factory CA"
    return None


def describe_certificate(crt_b64: str) -> CertificateInfo:
    """Subject, issuer, serial (hex) and validity of a record's certificate."""
    certificate = load_certificate(crt_b64)
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=f"{certificate.serial_number:x}",
        not_before=certificate.not_valid_before_utc.isoformat(),
        not_after=certificate.not_valid_after_utc.isoformat(),
    )
