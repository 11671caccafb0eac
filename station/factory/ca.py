"""The factory CA: a self-signed P-256 root, and the device certificates it issues from attestations.

>>> ca_key, now = ec.generate_private_key(ec.SECP256R1()), dt.datetime.now(dt.UTC)
>>> ca_cert = create_ca_certificate(ca_key, name="line1", now=now)
>>> issue_device_certificate(ca_key, ca_cert, "csr", "bm90IGEga2V5", "genuine", now=now)   # no real key
Traceback (most recent call last):
station.core.errors.BackendRefused: attestation key is not a base64 DER SubjectPublicKeyInfo
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core.codec import b64decode, p256_uncompressed
from station.core.errors import BackendRefused, ConfigError, ProtocolError, VerificationError
from station.devices.ppa.protocol import attestation_ski, verify_genuine
from station.factory.certsign import CaKey, sign_certificate
from station.factory.keys.keystore import create_exclusive

ENCEDO_SAN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.56231.1")
CA_YEARS = 10
DEVICE_YEARS = 3
GENUINE_MAX_AGE = 600  # seconds back: the unit accepts its own token for 10 minutes (reference §18.2)
GENUINE_MAX_AHEAD = 60  # seconds ahead: clock skew between a checked-in unit and the backend
_GENUINE_CN = re.compile(r"^#([0-9A-Fa-f]{18})$")


# --- the CA certificate ----------------------------------------------------------------------------------


def create_ca_certificate(key: CaKey, *, name: str, now: dt.datetime) -> x509.Certificate:
    """A self-signed root: CN "PPA Factory CA <name>", 10 years, CA:true pathlen 0, keyCertSign+cRLSign."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"PPA Factory CA {name}")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(random_serial())
        .not_valid_before(now)
        .not_valid_after(add_years(now, CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return sign_certificate(builder, key)


def load_or_create_ca_certificate(key: CaKey, path: Path, *, name: str, now: dt.datetime) -> x509.Certificate:
    """The CA certificate stored at ``path``, created on first start; it must certify ``key``."""
    if not path.exists():
        pem = create_ca_certificate(key, name=name, now=now).public_bytes(serialization.Encoding.PEM)
        create_exclusive(path, pem.decode("ascii"))  # two stations starting at once share the first
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        raise ConfigError("not a PEM X.509 certificate", path=str(path)) from None
    if not _same_key(cert.public_key(), key.public_key()):
        raise ConfigError("the CA certificate is for another key than the CA key beside it", path=str(path))
    return cert


# --- issuing ---------------------------------------------------------------------------------------------


def issue_device_certificate(
    ca_key: CaKey,
    ca_cert: x509.Certificate,
    csr_pem: str,
    key_b64: str,
    genuine: str,
    *,
    now: dt.datetime,
) -> bytes:
    """Check the attestation (see module docstring) and issue the device certificate (DER)."""
    public_key = attestation_public_key(key_b64)
    csr = _checked_csr(csr_pem, public_key)
    genuine_id = _genuine_id(csr)
    try:
        verify_genuine(
            genuine,
            public_key,
            now=int(now.timestamp()),
            max_age=GENUINE_MAX_AGE,
            max_ahead=GENUINE_MAX_AHEAD,
        )
    except ProtocolError as exc:
        raise BackendRefused(f"genuine refused: {exc}") from None
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(now)
        .not_valid_after(add_years(now, DEVICE_YEARS))
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(attestation_ski(public_key)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(_p256(ca_cert)), critical=False)
        .add_extension(x509.SubjectAlternativeName([encedo_other_name(genuine_id)]), critical=False)
    )
    return sign_certificate(builder, ca_key).public_bytes(serialization.Encoding.DER)


def attestation_public_key(key_b64: str) -> ec.EllipticCurvePublicKey:
    """Decode attestation ``key``: base64 DER SubjectPublicKeyInfo of a P-256 key, else BackendRefused."""
    try:
        public_key = serialization.load_der_public_key(b64decode(key_b64))
    except (ProtocolError, ValueError, TypeError):
        raise BackendRefused("attestation key is not a base64 DER SubjectPublicKeyInfo") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise BackendRefused("attestation key is not a P-256 public key")
    return public_key


def _checked_csr(csr_pem: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, AttributeError):
        raise BackendRefused("csr is not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise BackendRefused("csr signature does not verify")
    if not _same_key(csr.public_key(), public_key):
        raise BackendRefused("csr is for another key than the attestation key")
    return csr


def _genuine_id(csr: x509.CertificateSigningRequest) -> str:
    """The secure element serial from the CSR's ``CN=#<genuine_id>`` (18 hex digits)."""
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    match = _GENUINE_CN.match(str(names[0].value)) if len(names) == 1 else None
    if match is None:
        raise BackendRefused("csr subject CN is not #<genuine_id> (18 hex digits)")
    return match.group(1).lower()


def encedo_other_name(genuine_id: str) -> x509.OtherName:
    """SAN otherName 1.3.6.1.4.1.56231.1: DER OCTET STRING of SHA-1(genuine_id as raw bytes)."""
    digest = hashlib.sha1(bytes.fromhex(genuine_id)).digest()  # noqa: S324 - an identifier, not a signature
    return x509.OtherName(ENCEDO_SAN_OID, b"\x04\x14" + digest)


# --- verifying -------------------------------------------------------------------------------------------


def verify_device_certificate(
    cert_der: bytes, ca_cert: x509.Certificate, *, at: dt.datetime | None = None
) -> x509.Certificate:
    """Check a device certificate: signed by ``ca_cert``, valid at ``at`` (default now), a P-256 end entity
    whose SKI is SHA-1 of its point. Raises VerificationError naming what failed."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError:
        raise VerificationError("device certificate is not DER X.509") from None
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise VerificationError("device certificate is not signed by the factory CA") from None
    moment = at or dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise VerificationError(f"device certificate is not valid at {moment:%Y-%m-%dT%H:%M:%SZ}")
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise VerificationError("device certificate key is not P-256")
    _check_extensions(cert, public_key)
    return cert


def _check_extensions(cert: x509.Certificate, public_key: ec.EllipticCurvePublicKey) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound as exc:
        raise VerificationError(f"device certificate lacks an extension: {exc.oid.dotted_string}") from None
    if constraints.ca:
        raise VerificationError("device certificate is a CA certificate")
    if not hmac.compare_digest(ski.digest, attestation_ski(public_key)):
        raise VerificationError("device certificate SKI is not SHA-1 of its public key")


def certificate_matches_key(cert_der: bytes, key_b64: str) -> bool:
    """Whether ``cert_der`` certifies the attestation ``key`` (checked before provisioning a unit)."""
    try:
        subject_key = x509.load_der_x509_certificate(cert_der).public_key()
        return _same_key(subject_key, attestation_public_key(key_b64))
    except (ValueError, BackendRefused):
        return False


# --- small helpers ---------------------------------------------------------------------------------------


def random_serial() -> int:
    """A positive 159-bit random serial (RFC 5280 allows 20 octets; the top bit stays clear)."""
    return int.from_bytes(os.urandom(20), "big") >> 1 | 1


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """Same day and time ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _same_key(a: object, b: ec.EllipticCurvePublicKey) -> bool:
    if not isinstance(a, ec.EllipticCurvePublicKey) or not isinstance(a.curve, type(b.curve)):
        return False
    return hmac.compare_digest(p256_uncompressed(a), p256_uncompressed(b))


def _p256(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigError("the factory CA certificate does not hold an EC key")
    return key
