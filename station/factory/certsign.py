"""Signing X.509 certificates with a CA key that may live outside the process (in a PKCS#11 token).

Example::

    builder = x509.CertificateBuilder().subject_name(...)...     # everything but the signature
    certificate = sign_certificate(builder, ca_key)              # a file key or a token key

``ca_key`` is either a ``cryptography`` P-256 private key (a file key: cryptography signs, as before) or
an ``EcdsaSigner``: anything with ``public_key()`` and ``sign(data)`` returning a DER ECDSA-SHA256
signature made elsewhere (``factory/pkcs11.py``'s ``TokenEcdsaKey``).

cryptography has no documented hook for an external signer, so for an ``EcdsaSigner`` the certificate is
built once with a throwaway P-256 key, only so that cryptography encodes the TBSCertificate (including
its ``ecdsa-with-SHA256`` AlgorithmIdentifier, the same for any P-256 key). The token signs those exact
``tbs_certificate_bytes``, and asn1crypto (already required by python-pkcs11) swaps the signature into
the DER Certificate, keeping the TBSCertificate and AlgorithmIdentifier bytes as cryptography wrote them.
The result is loaded back and its signature checked with the CA's public key before it is returned, so a
token that signs wrongly can never hand out a certificate. (Subclassing ``EllipticCurvePrivateKey`` also
works with cryptography 50, but it relies on undocumented behaviour that cryptography 3.4 did not have.)
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
