"""Signing X.509 certificates with a CA key that may live outside the process (in a PKCS#11 token).

>>> import datetime as dt; from station.factory.ca import create_ca_certificate     # signs through here
>>> class Token:                             # a key that signs elsewhere (in a token); here, in memory
...     key = ec.generate_private_key(ec.SECP256R1()); public_key = key.public_key
...     def sign(self, tbs): return self.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
>>> create_ca_certificate(Token(), name="line1", now=dt.datetime.now(dt.UTC)).issuer.rfc4514_string()
'CN=PPA Factory CA line1'
"""

from __future__ import annotations

from typing import Protocol

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.core.errors import BackendError


class EcdsaSigner(Protocol):
    """A P-256 key that signs somewhere else: DER ECDSA signatures over SHA-256 of ``data``."""

    def public_key(self) -> ec.EllipticCurvePublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


CaKey = ec.EllipticCurvePrivateKey | EcdsaSigner


def sign_certificate(builder: x509.CertificateBuilder, key: CaKey) -> x509.Certificate:
    """``builder`` signed with ``key`` (ECDSA-SHA256); a token signature is verified before it is used."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, hashes.SHA256())
    return sign_externally(builder, key)


def sign_externally(builder: x509.CertificateBuilder, signer: EcdsaSigner) -> x509.Certificate:
    """Build with a throwaway key, have ``signer`` sign the TBSCertificate, swap the signature in."""
    throwaway = builder.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    tbs = throwaway.tbs_certificate_bytes
    signature = signer.sign(tbs)
    document = asn1_x509.Certificate.load(throwaway.public_bytes(serialization.Encoding.DER))
    document["signature_value"] = signature
    certificate = x509.load_der_x509_certificate(document.dump(force=False))
    if certificate.tbs_certificate_bytes != tbs:
        raise BackendError("the re-assembled certificate does not carry the signed TBSCertificate")
    try:
        signer.public_key().verify(certificate.signature, tbs, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise BackendError("the CA key's signature does not verify with its public key") from None
    return certificate
