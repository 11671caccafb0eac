"""Pure protocol functions of the Encedo PPA REST API (docs/reference/encedo-ppa-api.md): no I/O, no clocks.

>>> se_key = ec.generate_private_key(ec.SECP256R1())            # the unit's secure-element key
>>> token = make_genuine(se_key, timestamp=1700000000)          # ``genuine`` (§3.5): key id, time, signature
>>> verify_genuine(token, se_key.public_key(), now=1700001000)  # on the unit's clock: 1000 s old
Traceback (most recent call last):
station.core.errors.VerificationError: genuine token is stale (issued at 1700000000, device time 1700001000)
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from station.core.codec import b64decode, b64encode, b64url_encode, compact_json, p256_uncompressed
from station.core.errors import ProtocolError, VerificationError
from station.core.strictjson import JsonRefused, strict_loads

# --- X25519 -----------------------------------------------------------------------------------------------


def x25519_shared_secret(private_key: bytes, peer_public: bytes) -> bytes:
    """Raw 32-byte X25519 shared secret; the device uses it directly as the HMAC key (no hashing)."""
    if len(peer_public) != 32:
        raise ProtocolError("an X25519 public key is 32 bytes")
    priv = x25519.X25519PrivateKey.from_private_bytes(private_key)
    try:
        return priv.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as exc:  # low-order point: the exchange result would be all zeros
        raise ProtocolError(f"unusable X25519 public key: {exc}") from None


# --- JWTs: the ECDH-JWT (init, auth, check, checked) and the device's bearer token (§4.2, §5.2, §6) -----

ECDH_JWT_HEADER = b'{"ecdh":"x25519","alg":"HS256","typ":"JWT"}'
BEARER_JWT_HEADER = b'{"typ":"JWT","alg":"HS256"}'


@dataclass(frozen=True)
class ParsedJwt:
    """A JWT split but not yet trusted: verify ``signature`` over ``signing_input`` before using claims."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def hs256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256, the MAC of every JWT in this protocol."""
    return hmac.new(key, message, hashlib.sha256).digest()


def encode_jwt(claims: Mapping[str, Any], key: bytes, header: bytes = ECDH_JWT_HEADER) -> str:
    """Sign ``claims`` as an HS256 JWT. The exact header bytes matter: the device MACs what it receives."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(compact_json(dict(claims)))}"
    return f"{signing_input}.{b64url_encode(hs256(key, signing_input.encode('ascii')))}"


def encode_ecdh_jwt(claims: Mapping[str, Any], shared_secret: bytes) -> str:
    """An ECDH-JWT: header ``{"ecdh":"x25519","alg":"HS256","typ":"JWT"}``, key = raw X25519 secret."""
    return encode_jwt(claims, shared_secret, ECDH_JWT_HEADER)


def parse_jwt(token: str) -> ParsedJwt:
    """Split a compact JWT and decode header and claims (both must be JSON objects). Does not verify."""
    if not isinstance(token, str):
        raise ProtocolError("a JWT is a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise ProtocolError("a JWT has three dot-separated parts")
    try:
        header = strict_loads(b64decode(parts[0]))  # a unit's token: strict, as every reply is
        claims = strict_loads(b64decode(parts[1]))
    except JsonRefused as exc:
        raise ProtocolError(f"JWT header or claims: {exc.problem}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ProtocolError("JWT header and claims must be JSON objects")
    return ParsedJwt(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), b64decode(parts[2]))


def verify_hs256(jwt: ParsedJwt, key: bytes) -> None:
    """Check an HS256 tag in constant time; raises VerificationError."""
    if jwt.header.get("alg") != "HS256":
        raise VerificationError("JWT header alg is not HS256")
    if not hmac.compare_digest(hs256(key, jwt.signing_input), jwt.signature):
        raise VerificationError("JWT signature does not verify")


def is_ecdh_header(header: Mapping[str, Any]) -> bool:
    """The device keys the HMAC with ECDH only for this header (reference §18.3)."""
    return header.get("ecdh") == "x25519" and header.get("alg") == "HS256"


def make_bearer_token(key: bytes, *, scope: str, sub: str, iat: int, exp: int, jti: str) -> str:
    """The device's HS256 bearer token, keyed with its per-boot session key (reference §1.4)."""
    claims = {"scope": scope, "sub": sub, "iat": iat, "exp": exp, "jti": jti}
    return encode_jwt(claims, key, BEARER_JWT_HEADER)


# --- key derivation (§4.3) --------------------------------------------------------------------------------

USER_KEY_ROUNDS = 600_000


def derive_user_private_key(passphrase: str, eid: str, rounds: int = USER_KEY_ROUNDS) -> bytes:
    """User X25519 private key = PBKDF2-HMAC-SHA256(passphrase, salt = the ``eid`` base64 *text*).

    The salt is the text as received, not its decoded bytes; that is what the Manager and every SDK do.
    """
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8"), eid.encode("utf-8"), rounds, 32)


def bip39_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + passphrase, 2048)."""
    words = unicodedata.normalize("NFKD", mnemonic)
    salt = unicodedata.normalize("NFKD", "mnemonic" + passphrase)
    return hashlib.pbkdf2_hmac("sha512", words.encode("utf-8"), salt.encode("utf-8"), 2048, 64)


def master_private_key_from_mnemonic(mnemonic: str) -> bytes:
    """Master X25519 private key as the Encedo Manager derives it from a 24-word mnemonic.

    The Manager takes ``hex(seed).substr(1, 64)``: a nibble-shifted 32 bytes. Reproducing that
    off-by-one is what lets a customer log in with the Manager using the mnemonic we escrowed.
    """
    validate_mnemonic(mnemonic)
    return bytes.fromhex(bip39_seed(mnemonic).hex()[1:65])


@functools.cache
def _bip39() -> Any:
    """The English word list, read once: building it (a file read, 2 048 words stripped) cost more CPU
    than the BIP39 seed derivation it serves, twice per unit. The object is only read after that."""
    from mnemonic import Mnemonic  # imported lazily: only the key policy and its tests need the wordlist

    return Mnemonic("english")


def generate_mnemonic() -> str:
    """A fresh 24-word English BIP39 mnemonic (256 bits of entropy from the OS)."""
    return str(_bip39().generate(strength=256))


def validate_mnemonic(mnemonic: str) -> None:
    """Raise ProtocolError unless ``mnemonic`` is 24 English BIP39 words with a valid checksum."""
    words = mnemonic.split()
    if len(words) != 24:
        raise ProtocolError(f"a master mnemonic has 24 words, not {len(words)}")
    if not _bip39().check(" ".join(words)):
        raise ProtocolError("mnemonic has an unknown word or a wrong checksum")


def userkey_rotation_hmac(new_private_key: bytes, spk: bytes, nonce: bytes) -> str:
    """``userkey_hmac`` for a passphrase rotation (§3.3): HMAC(X25519(new, spk), nonce), base64."""
    return b64encode(hs256(x25519_shared_secret(new_private_key, spk), nonce))


# --- the `genuine` attestation token (§3.5) ---------------------------------------------------------------


@dataclass(frozen=True)
class Genuine:
    """A parsed ``genuine`` token: who (SKI of the SE key), when (device time), and the proof."""

    ski: bytes
    timestamp: int
    signature: bytes


def attestation_ski(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-1 of the uncompressed attestation public key (first part of ``genuine``)."""
    return hashlib.sha1(p256_uncompressed(public_key)).digest()  # noqa: S324 - an identifier, as the device defines it


def make_genuine(se_key: ec.EllipticCurvePrivateKey, timestamp: int) -> str:
    """Make a token as the secure element does: ECDSA-P256-SHA256 over the decimal timestamp text."""
    text = str(timestamp).encode("ascii")
    signature = se_key.sign(text, ec.ECDSA(hashes.SHA256()))
    return ".".join(b64encode(part) for part in (attestation_ski(se_key.public_key()), text, signature))


def parse_genuine(token: str) -> Genuine:
    """Split a ``genuine`` token into its three parts; raises ProtocolError if it is malformed."""
    if not isinstance(token, str):
        raise ProtocolError("genuine token is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise ProtocolError("genuine token has three dot-separated parts")
    ski, stamp, signature = (b64decode(part) for part in parts)
    if len(ski) != 20:
        raise ProtocolError("genuine token key id is not 20 bytes")
    if not stamp.isdigit():
        raise ProtocolError("genuine token timestamp is not a decimal number")
    return Genuine(ski, int(stamp), signature)


def verify_genuine(
    token: str,
    public_key: ec.EllipticCurvePublicKey,
    *,
    now: int,
    max_age: int = 600,
    max_ahead: int = 60,
) -> Genuine:
    """Verify key id, signature and freshness (window [now - max_age, now + max_ahead], reference §18.2).

    ``now`` must be the device's own clock: before check-in it counts from boot.
    """
    genuine = parse_genuine(token)
    if not hmac.compare_digest(genuine.ski, attestation_ski(public_key)):
        raise VerificationError("genuine token belongs to another key")
    try:
        public_key.verify(
            genuine.signature, str(genuine.timestamp).encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise VerificationError("genuine token signature does not verify") from None
    if not now - max_age <= genuine.timestamp <= now + max_ahead:
        raise VerificationError(f"genuine token is stale (issued at {genuine.timestamp}, device time {now})")
    return genuine


# --- nonces, identifiers ----------------------------------------------------------------------------------


def make_nonce(device_time: int, random_tail: bytes) -> bytes:
    """A 32-byte device nonce: LE32 device time followed by 28 random bytes (reference §18.1)."""
    if len(random_tail) != 28:
        raise ValueError("a nonce tail is 28 bytes")
    return (device_time & 0xFFFFFFFF).to_bytes(4, "little") + random_tail


def checkin_qid(devid: str) -> str:
    """``qid`` of the check-in request: base64 SHA-256("qid" || devid text) (reference §18.4)."""
    return b64encode(hashlib.sha256(b"qid" + devid.encode("ascii")).digest())


def derive_instanceid(masterkey: bytes, eid: bytes, devid: str) -> str:
    """``instanceid``: a version-4 UUID from HKDF-SHA256(masterkey || eid, salt = devid) (reference §18.6).

    The station recomputes it to check that the unit was personalised with the master key we chose.
    """
    raw = HKDF(algorithm=hashes.SHA256(), length=16, salt=bytes.fromhex(devid), info=b"instanceid").derive(
        masterkey + eid
    )
    return str(uuid.UUID(bytes=raw, version=4))
