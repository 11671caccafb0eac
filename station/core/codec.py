"""Plain encodings every layer shares: base64 in the device's dialect, compact JSON, raw public-key bytes.

>>> b64url_encode(compact_json({"alg": "EdDSA"})), b64decode("-_8") == b64decode("+/8=")
('eyJhbGciOiJFZERTQSJ9', True)
>>> b64decode("not base64!")                 # a ProtocolError, never binascii.Error: callers name the field
Traceback (most recent call last):
station.core.errors.ProtocolError: not base64 text
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from station.core.errors import ProtocolError

# --- base64 (PPA reference §1.2) --------------------------------------------------------------------------

_B64_ALPHABET = re.compile(r"^[A-Za-z0-9+/\-_]*={0,2}$")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding: what the device emits and what JWT claim values use."""
    return base64.b64encode(data).decode("ascii")


def b64url_encode(data: bytes) -> str:
    """base64url without padding: the encoding of JWT/JWS segments and audit-log fields."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode base64 the way the device does: standard or URL-safe alphabet, padding optional.

    Raises ProtocolError (never binascii.Error) so callers can report which field was bad.
    """
    if not isinstance(text, str) or not _B64_ALPHABET.match(text):
        raise ProtocolError("not base64 text")
    core = text.rstrip("=").replace("-", "+").replace("_", "/")
    if len(core) % 4 == 1:
        raise ProtocolError("base64 text has an impossible length")
    try:
        return base64.b64decode(core + "=" * (-len(core) % 4), validate=True)
    except binascii.Error as exc:
        raise ProtocolError(f"bad base64: {exc}") from None


# --- JSON -------------------------------------------------------------------------------------------------


def compact_json(value: Any) -> bytes:
    """JSON as the device's clients send it: no whitespace, non-ASCII kept, ``/`` not escaped."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- public keys as bytes ---------------------------------------------------------------------------------


def x25519_public_key(private_key: bytes) -> bytes:
    """Raw 32-byte X25519 public key of a raw 32-byte private key (RFC 7748 clamping applied)."""
    return (
        x25519.X25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def x25519_public_b64(private_key: bytes) -> str:
    """Standard base64 of the public key: the form used in ``iss``, ``userkey``, ``masterkey``."""
    return b64encode(x25519_public_key(private_key))


def ed25519_public_raw(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> bytes:
    """Raw 32-byte Ed25519 public key (the form of ``eid_sign``, ``/api/logger/key`` and record keys)."""
    pub = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def p256_uncompressed(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """``04 || X || Y``: the point form whose SHA-1 is the certificate's SubjectKeyIdentifier."""
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
