"""Seal a unit's secrets to the escrow public key of its profile; only the escrow private key opens them.

>>> private = x25519.X25519PrivateKey.generate()
>>> public = private.public_key().public_bytes_raw()
>>> sealed = seal({"passphrase": "ABCD-EFGH"}, public, devid="2023b758c209269a", purpose="unit-secrets")
>>> open_sealed(sealed, private, devid="2023b758c209269a")          # JSON-able, stored in the record
{'passphrase': 'ABCD-EFGH'}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from station.core.codec import b64decode, b64encode
from station.core.errors import ProtocolError, VerificationError

try:  # cryptography >= 47 ships HPKE (RFC 9180)
    from cryptography.hazmat.primitives import hpke
except ImportError:  # pragma: no cover - exercised only with an older cryptography
    hpke = None  # type: ignore[assignment]

HPKE_SCHEME = "HPKE-X25519-SHA256-ChaCha20Poly1305"
ECIES_SCHEME = "ECIES-X25519-HKDF-SHA256-ChaCha20Poly1305"
INFO_LABEL = b"ppa-station/escrow/1"
ENC_SIZE = 32


def hpke_available() -> bool:
    return hpke is not None


def seal(
    bundle: dict[str, Any], recipient: bytes, *, devid: str, purpose: str, scheme: str | None = None
) -> dict[str, Any]:
    """Encrypt ``bundle`` to the raw X25519 public key ``recipient``, bound to ``devid`` and ``purpose``."""
    if len(recipient) != 32:
        raise ProtocolError("an escrow public key is 32 bytes of X25519")
    context = {"devid": devid, "purpose": purpose}
    chosen = scheme or (HPKE_SCHEME if hpke_available() else ECIES_SCHEME)
    plaintext = _canonical(bundle)
    public = x25519.X25519PublicKey.from_public_bytes(recipient)
    if chosen == HPKE_SCHEME:
        sealed = _hpke_suite().encrypt(plaintext, public, info=_hpke_info(context))
        enc, ciphertext = sealed[:ENC_SIZE], sealed[ENC_SIZE:]
    elif chosen == ECIES_SCHEME:
        enc, ciphertext = _ecies_seal(plaintext, recipient, _canonical(context))
    else:
        raise ProtocolError(f"unknown sealing scheme {chosen!r}")
    return {
        "scheme": chosen,
        "recipient": b64encode(recipient),
        "enc": b64encode(enc),
        "ciphertext": b64encode(ciphertext),
        "context": context,
    }


def open_sealed(
    sealed: dict[str, Any],
    escrow_private: bytes | x25519.X25519PrivateKey,
    *,
    devid: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Decrypt a sealed bundle; with ``devid``/``purpose`` also require that context.

    Raises VerificationError if it was tampered with, sealed to another key, or for another context.
    """
    private = (
        escrow_private
        if isinstance(escrow_private, x25519.X25519PrivateKey)
        else x25519.X25519PrivateKey.from_private_bytes(escrow_private)
    )
    scheme, recipient, enc, ciphertext, context = _parts(sealed)
    if recipient != _raw(private.public_key()):
        raise VerificationError("sealed to another escrow key")
    for name, expected in (("devid", devid), ("purpose", purpose)):
        if expected is not None and context.get(name) != expected:
            raise VerificationError(f"sealed for another {name}")
    try:
        if scheme == HPKE_SCHEME:
            plaintext = _hpke_suite().decrypt(enc + ciphertext, private, info=_hpke_info(context))
        else:
            plaintext = _ecies_open(private, enc, ciphertext, recipient, _canonical(context))
    except (InvalidTag, ValueError):
        raise VerificationError("sealed secrets do not decrypt: tampered, or another key") from None
    return _bundle(plaintext)


@dataclass(frozen=True, repr=False)
class EscrowKey:
    """The escrow private key a QA or RMA bench holds, and the setting it came from (named in messages).

    Its repr and every message name the setting and the key id, never the key.
    """

    private: x25519.X25519PrivateKey
    source: str  # e.g. "[keys] escrow = file:/srv/station/keys/escrow.key"

    def __repr__(self) -> str:
        return f"EscrowKey({self.source!r}, key id {self.key_id})"

    @property
    def key_id(self) -> str:
        """First 16 hex digits of SHA-256 of the raw public key (as ``keystore.key_id``)."""
        return raw_key_id(_raw(self.private.public_key()))

    def open(self, sealed: dict[str, Any], *, devid: str | None, purpose: str) -> dict[str, Any]:
        """``open_sealed`` with this key; a bundle sealed to another key names both keys."""
        try:
            recipient = b64decode(str(sealed.get("recipient", ""))) if isinstance(sealed, dict) else b""
        except ProtocolError:
            recipient = b""
        if recipient and recipient != _raw(self.private.public_key()):
            raise WrongEscrowKey(
                f"sealed to escrow key {raw_key_id(recipient)}, not to this bench's escrow key "
                f"{self.key_id} ({self.source})"
            )
        return open_sealed(sealed, self.private, devid=devid, purpose=purpose)


class WrongEscrowKey(VerificationError):
    """The bundle is sealed to another escrow key than the one at hand (the message names both)."""


def raw_key_id(raw: bytes) -> str:
    """The key id of a raw public key: first 16 hex digits of its SHA-256."""
    return hashlib.sha256(raw).hexdigest()[:16]


# --- schemes ---------------------------------------------------------------------------------------------


def _hpke_suite() -> Any:
    if hpke is None:
        raise ProtocolError(f"{HPKE_SCHEME} needs a cryptography release with hazmat.primitives.hpke")
    return hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def _hpke_info(context: dict[str, Any]) -> bytes:
    return INFO_LABEL + b"\0" + _canonical(context)


def _ecies_seal(plaintext: bytes, recipient: bytes, aad: bytes) -> tuple[bytes, bytes]:
    ephemeral = x25519.X25519PrivateKey.generate()
    enc = _raw(ephemeral.public_key())
    shared = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(recipient))
    return enc, ChaCha20Poly1305(_ecies_key(shared, enc, recipient)).encrypt(bytes(12), plaintext, aad)


def _ecies_open(
    private: x25519.X25519PrivateKey, enc: bytes, ciphertext: bytes, recipient: bytes, aad: bytes
) -> bytes:
    shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
    return ChaCha20Poly1305(_ecies_key(shared, enc, recipient)).decrypt(bytes(12), ciphertext, aad)


def _ecies_key(shared: bytes, enc: bytes, recipient: bytes) -> bytes:
    info = ECIES_SCHEME.encode("ascii") + b"\0" + enc + recipient
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


# --- shapes ----------------------------------------------------------------------------------------------


def _parts(sealed: dict[str, Any]) -> tuple[str, bytes, bytes, bytes, dict[str, Any]]:
    if not isinstance(sealed, dict):
        raise ProtocolError("sealed secrets are a JSON object")
    scheme, context = sealed.get("scheme"), sealed.get("context")
    if scheme not in (HPKE_SCHEME, ECIES_SCHEME):
        raise ProtocolError(f"unknown sealing scheme {scheme!r}")
    if not isinstance(context, dict):
        raise ProtocolError("sealed secrets lack their context")
    values = []
    for name in ("recipient", "enc", "ciphertext"):
        try:
            values.append(b64decode(str(sealed.get(name, ""))))
        except ProtocolError:
            raise ProtocolError(f"sealed secrets field {name!r} is not base64") from None
    recipient, enc, ciphertext = values
    if len(enc) != ENC_SIZE:
        raise VerificationError("sealed secrets enc is not a 32-byte X25519 key")
    return str(scheme), recipient, enc, ciphertext, context


def _bundle(plaintext: bytes) -> dict[str, Any]:
    try:
        value = json.loads(plaintext)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("sealed secrets are not a JSON bundle") from None
    if not isinstance(value, dict):
        raise VerificationError("sealed secrets are not a JSON object")
    return value


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _raw(public: x25519.X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
