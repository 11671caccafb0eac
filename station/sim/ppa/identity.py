"""A simulated unit's identity: serials, instance keys, the secure element's key, the HTTPS certificate.

>>> import random
>>> first, again = HardwareIdentity.generate(random.Random(7)), HardwareIdentity.generate(random.Random(7))
>>> len(first.devid), first.genuine_id[:4], first.devid == again.devid     # seeded serials; keys from the OS
(16, '0123', True)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import random
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import NameOID

SE_CURVE = ec.SECP256R1()


@dataclass
class InstanceKeys:
    """Keys that a wipeout regenerates (reference §18.9): ``eid`` (X25519) and ``eid_sign`` (Ed25519)."""

    eid: x25519.X25519PrivateKey
    eid_sign: ed25519.Ed25519PrivateKey

    @classmethod
    def generate(cls) -> InstanceKeys:
        return cls(x25519.X25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate())

    @property
    def eid_public(self) -> bytes:
        return self.eid.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def eid_sign_public(self) -> bytes:
        return self.eid_sign.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


@dataclass
class HardwareIdentity:
    """What survives every wipe: serials, SD-card registers and the secure element's attestation key."""

    devid: str
    genuine_id: str
    se_key: ec.EllipticCurvePrivateKey
    sd_csd: str
    sd_cid: str

    @classmethod
    def generate(cls, rng: random.Random) -> HardwareIdentity:
        return cls(
            devid=rng.randbytes(8).hex(),
            genuine_id="0123" + rng.randbytes(7).hex(),
            se_key=ec.generate_private_key(SE_CURVE),
            sd_csd=rng.randbytes(16).hex(),
            sd_cid=rng.randbytes(16).hex(),
        )


def https_credentials(hostname: str) -> tuple[bytes, bytes]:
    """A self-signed P-256 certificate for the unit's HTTPS listener: (cert PEM, key PEM).

    Real units carry a publicly trusted ``my.ence.do`` certificate; a simulator cannot, so clients
    of the simulator pin this certificate or skip verification, exactly as for a freshly wiped unit.
    """
    key = ec.generate_private_key(SE_CURVE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(os.urandom(16), "big") >> 1)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def attestation_csr(se_key: ec.EllipticCurvePrivateKey, genuine_id: str) -> str:
    """The PEM CSR a fresh secure element offers in ``GET /api/system/config/attestation``."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"#{genuine_id}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Encedo Ltd"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UK"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(se_key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
