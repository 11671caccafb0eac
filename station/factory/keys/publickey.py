"""X25519 public keys from configuration (a profile's escrow key, a backend's check-in key), refused unusable.

>>> x25519_public("AAAA")
Traceback (most recent call last):
station.core.errors.ProtocolError: decodes to 3 bytes; an X25519 public key is 32 bytes in base64
>>> x25519_public("A" * 43 + "=")             # 32 zero bytes: a secret sealed to it is no secret
Traceback (most recent call last):
station.core.errors.ProtocolError: is a low-order point (e.g. all zeros), not a usable X25519 public key
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import x25519

from station.core.codec import b64decode
from station.core.errors import ProtocolError

KEY_BYTES = 32


def x25519_public(text: str) -> bytes:
    """The raw key ``text`` holds in base64; ProtocolError saying why it cannot be used.

    A key agreement with a fresh key must give a shared secret that is not all zeros: an all-zero key
    or any other low-order point gives a secret everyone knows (``cryptography`` refuses those).
    """
    try:
        raw = b64decode(text)
    except ProtocolError:
        raise ProtocolError(f"is not base64; an X25519 public key is {KEY_BYTES} bytes in base64") from None
    if len(raw) != KEY_BYTES:
        raise ProtocolError(
            f"decodes to {len(raw)} bytes; an X25519 public key is {KEY_BYTES} bytes in base64"
        )
    low_order = ProtocolError("is a low-order point (e.g. all zeros), not a usable X25519 public key")
    try:
        secret = x25519.X25519PrivateKey.generate().exchange(x25519.X25519PublicKey.from_public_bytes(raw))
    except ValueError:
        raise low_order from None
    if not any(secret):
        raise low_order
    return raw
