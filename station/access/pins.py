"""Operator PINs: the rules a new PIN must meet, and its scrypt hash as one self-describing string.

>>> pin = Pin("482913"); pin                       # the digits never reach a log or a traceback
Pin(******)
>>> verify_pin(pin, hash_pin(pin, n=2**10)), verify_pin(Pin("482914"), hash_pin(pin, n=2**10))
(True, False)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import os
import re

from station.core.errors import AccessError

MIN_DIGITS, MAX_DIGITS = 6, 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAX_MEMORY = 2**31
_HASH = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


class Pin:
    """A PIN held so that it never prints: ``str``/``repr`` show asterisks, never the digits.

    Constructing one checks only that it is 1 to 64 ASCII digits (what a login accepts); the rules for
    a new PIN are ``check_new_pin``, so a rule added later does not lock out existing accounts.
    """

    __slots__ = ("_digits",)

    def __init__(self, digits: str) -> None:
        if not isinstance(digits, str) or not digits.isascii() or not digits.isdigit() or len(digits) > 64:
            raise AccessError("a PIN is digits only")
        self._digits = digits

    def __repr__(self) -> str:
        return "Pin(******)"

    __str__ = __repr__

    def encode(self) -> bytes:
        """The digits as bytes, for the hash function only."""
        return self._digits.encode("ascii")


def check_new_pin(pin: Pin) -> None:
    """Raise AccessError saying which rule a new PIN breaks; the message never contains the digits."""
    digits = pin.encode().decode("ascii")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise AccessError(f"a PIN has {MIN_DIGITS} to {MAX_DIGITS} digits")
    if len(set(digits)) == 1:
        raise AccessError("a PIN cannot be one digit repeated")
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    if steps in ({1}, {9}):
        raise AccessError("a PIN cannot be a straight run of digits, up or down")


def hash_pin(pin: Pin, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt (standard base64 for salt and hash)."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(pin.encode(), salt, (n, r, p), HASH_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: Pin, stored: str) -> bool:
    """True when ``pin`` hashes to ``stored`` (constant-time compare); AccessError if ``stored`` is bad."""
    n, r, p, salt, expected = parse_hash(stored)
    digest = _scrypt(pin.encode(), salt, (n, r, p), len(expected))
    return hmac.compare_digest(digest, expected)


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """``(n, r, p, salt, hash)`` from a stored string, with the parameters checked against bounds."""
    match = _HASH.match(stored)
    if match is None:
        raise AccessError("stored PIN hash is not in the form scrypt$n$r$p$salt$hash")
    n, r, p = (int(match.group(index)) for index in (1, 2, 3))
    if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P:
        raise AccessError(f"stored PIN hash has unsupported scrypt parameters n={n} r={r} p={p}")
    salt, digest = _unb64(match.group(4)), _unb64(match.group(5))
    if len(salt) < 8 or len(digest) < 16:
        raise AccessError("stored PIN hash has a salt or hash that is too short")
    return n, r, p, salt, digest


def _scrypt(secret: bytes, salt: bytes, params: tuple[int, int, int], length: int) -> bytes:
    n, r, p = params
    memory = 128 * r * (n + p + 2)
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=min(2 * memory, _MAX_MEMORY), dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AccessError("stored PIN hash has bad base64") from None
