"""Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): how a station signs its records.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = Ed25519PrivateKey.generate(); token = sign({"seq": 1}, key, key_id(key.public_key()))
>>> verify(token.replace("eyJzZXEiOjF9", "eyJzZXEiOjJ9"), key.public_key())      # {"seq":1} made {"seq":2}
Traceback (most recent call last):
station.core.errors.SignatureError: signature does not verify with key ...
"""

from __future__ import annotations

import binascii
import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.codec import b64url_encode, ed25519_public_raw
from station.core.errors import RecordError, SignatureError
from station.records.canonical import canonical_json, parse_canonical

ALG = "EdDSA"
TYP = "ppa-station-record+jws"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_KID = re.compile(r"^[0-9a-f]{16}$")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's short name in records: first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(ed25519_public_raw(public_key)).hexdigest()[:16]


_fingerprint = key_id  # ``sign`` has a parameter named ``key_id``


class Signer(Protocol):
    """What signs records: an ``Ed25519PrivateKey`` (file key) or a ``TokenEd25519Key`` (PKCS#11 token)."""

    def public_key(self) -> Ed25519PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


def trusted_keys_from(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """A ``{key_id: key}`` map for ``verify_chain`` from a list of station public keys."""
    return {key_id(key): key for key in public_keys}


def sign(payload: Mapping[str, Any], key: Signer, key_id: str) -> str:
    """Sign ``payload`` (canonicalised here) and return the compact JWS text.

    ``key_id`` must name ``key`` (checked), so a record can never carry a ``kid`` that lies.
    """
    if _fingerprint(key.public_key()) != key_id:
        raise RecordError(f"key id {key_id!r} does not name the signing key")
    header = canonical_json({"alg": ALG, "kid": key_id, "typ": TYP})
    return compact_sign(header, canonical_json(dict(payload)), key)


def compact_sign(header: bytes, payload: bytes, key: Signer) -> str:
    """RFC 7515 compact serialisation with an RFC 8037 Ed25519 signature over the given bytes."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


@dataclass(frozen=True)
class ParsedJws:
    """A compact JWS split and decoded, not yet trusted."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    payload_json: bytes = b""  # the payload's bytes as signed: RFC 8785 canonical JSON (checked)

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def parse(jws: str) -> ParsedJws:
    """Split and decode ``jws`` strictly; any deviation from the format we write is a RecordError."""
    if not isinstance(jws, str):
        raise RecordError("JWS is not text")
    parts = jws.split(".")
    if len(parts) != 3:
        raise RecordError(f"JWS has {len(parts)} dot-separated parts, expected 3")
    header_b64, payload_b64, signature_b64 = parts
    header = _header(header_b64)
    payload_json = _b64url_decode(payload_b64, "payload")
    payload = parse_canonical(payload_json, "payload")
    signature = _b64url_decode(signature_b64, "signature")
    if len(signature) != 64:
        raise RecordError(f"Ed25519 signature is {len(signature)} bytes, expected 64")
    return ParsedJws(header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature, payload_json)


_headers: dict[str, dict[str, Any]] = {}  # accepted header segments: a chain repeats one or two


def _header(segment: str) -> dict[str, Any]:
    """The protected header ``segment`` decoded and checked; an accepted segment is remembered, since
    the same text always gives the same header (a few per station key, so the memory stays small)."""
    known = _headers.get(segment)
    if known is not None:
        return dict(known)
    header = parse_canonical(_b64url_decode(segment, "protected header"), "protected header")
    _check_header(header)
    if len(_headers) >= 64:
        _headers.clear()
    _headers[segment] = dict(header)
    return header


def peek(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, payload)`` without checking the signature: never trust what this returns."""
    parsed = parse(jws)
    return parsed.header, parsed.payload


def verify(jws: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The payload of ``jws`` once its signature verifies with ``public_key`` (named by its ``kid``)."""
    parsed = parse(jws)
    expected = key_id(public_key)
    if parsed.kid != expected:
        raise SignatureError(f"record is signed by key {parsed.kid}, not by the given key {expected}")
    try:
        public_key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        raise SignatureError(f"signature does not verify with key {expected}") from None
    return parsed.payload


def _check_header(header: Mapping[str, Any]) -> None:
    if set(header) != {"alg", "kid", "typ"}:
        raise RecordError(f"protected header has fields {sorted(header)}, expected alg, kid, typ")
    if header["alg"] != ALG:
        raise RecordError(f"protected header alg is {header['alg']!r}, expected {ALG!r}")
    if header["typ"] != TYP:
        raise RecordError(f"protected header typ is {header['typ']!r}, expected {TYP!r}")
    if not isinstance(header["kid"], str) or not _KID.match(header["kid"]):
        raise RecordError("protected header kid is not 16 lowercase hex digits")


def _b64url_decode(segment: str, what: str) -> bytes:
    if not _SEGMENT.match(segment) or len(segment) % 4 == 1:
        raise RecordError(f"{what} is not base64url text")
    try:
        # What base64.urlsafe_b64decode does, without its wrappers: a long chain decodes every payload.
        data = binascii.a2b_base64(segment.encode("ascii").translate(_TO_STANDARD) + _PADS[len(segment) % 4])
    except (binascii.Error, ValueError):
        raise RecordError(f"{what} is not base64url text") from None
    if _UNUSED_BITS[len(segment) % 4] & _SEXTET[segment[-1]]:  # a second spelling of the same bytes
        raise RecordError(f"{what} is not canonical base64url")
    return data


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # the base64url alphabet's two letters of its own
_PADS = (b"", b"===", b"==", b"=")  # by length % 4, as many as a whole group needs

# Canonical base64url sets the bits of the last character that no byte uses to zero: the low 4 of a
# 2-character tail (one byte), the low 2 of a 3-character tail (two bytes); a full group has none. Text of
# the alphabet is otherwise decoded one way only, so this is the re-encoding check without re-encoding.
_SEXTET = {
    char: value
    for value, char in enumerate(string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_")
}
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}
