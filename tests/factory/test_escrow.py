"""Sealing secrets to the escrow key: both schemes round-trip, every kind of tampering is caught."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from station.core import codec
from station.core.errors import ProtocolError, VerificationError
from station.factory.escrow import ECIES_SCHEME, HPKE_SCHEME, hpke_available, open_sealed, seal

ESCROW_PRIVATE = bytes(range(200, 232))
ESCROW_PUBLIC = codec.x25519_public_key(ESCROW_PRIVATE)
BUNDLE = {"passphrase": "ABCD-EFGH", "mnemonic": "abandon " * 23 + "art"}
DEVID = "0011223344556677"
SCHEMES = [HPKE_SCHEME, ECIES_SCHEME] if hpke_available() else [ECIES_SCHEME]


def sealed_with(scheme: str) -> dict[str, Any]:
    return seal(BUNDLE, ESCROW_PUBLIC, devid=DEVID, purpose="unit-secrets", scheme=scheme)


def test_hpke_is_the_default_when_available() -> None:
    sealed = seal(BUNDLE, ESCROW_PUBLIC, devid=DEVID, purpose="unit-secrets")
    assert sealed["scheme"] == (HPKE_SCHEME if hpke_available() else ECIES_SCHEME)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_round_trip_is_json_and_hides_the_plaintext(scheme: str) -> None:
    sealed = sealed_with(scheme)
    assert set(sealed) == {"scheme", "recipient", "enc", "ciphertext", "context"}
    assert sealed["recipient"] == codec.b64encode(ESCROW_PUBLIC)
    assert sealed["context"] == {"devid": DEVID, "purpose": "unit-secrets"}
    text = json.dumps(sealed)
    assert "ABCD" not in text and "abandon" not in text
    opened = open_sealed(json.loads(text), ESCROW_PRIVATE, devid=DEVID, purpose="unit-secrets")
    assert opened == BUNDLE
    assert open_sealed(sealed, x25519.X25519PrivateKey.from_private_bytes(ESCROW_PRIVATE)) == BUNDLE


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_seal_is_fresh(scheme: str) -> None:
    one, two = sealed_with(scheme), sealed_with(scheme)
    assert one["enc"] != two["enc"] and one["ciphertext"] != two["ciphertext"]


def flip(value: str) -> str:
    raw = bytearray(codec.b64decode(value))
    raw[len(raw) // 2] ^= 0x01
    return codec.b64encode(bytes(raw))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.update(ciphertext=flip(s["ciphertext"])),
        lambda s: s.update(enc=flip(s["enc"])),
        lambda s: s["context"].update(devid="ffffffffffffffff"),
        lambda s: s["context"].update(purpose="other"),
        lambda s: s.update(ciphertext=codec.b64encode(codec.b64decode(s["ciphertext"])[:-1])),
    ],
    ids=["ciphertext", "enc", "devid", "purpose", "truncated"],
)
def test_tampering_is_a_verification_error(scheme: str, tamper: Any) -> None:
    sealed = copy.deepcopy(sealed_with(scheme))
    tamper(sealed)
    with pytest.raises(VerificationError):
        open_sealed(sealed, ESCROW_PRIVATE)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_wrong_key_and_unexpected_context(scheme: str) -> None:
    sealed = sealed_with(scheme)
    with pytest.raises(VerificationError, match="another escrow key"):
        open_sealed(sealed, bytes(range(32)))
    forged = dict(sealed, recipient=codec.b64encode(codec.x25519_public_key(bytes(range(32)))))
    with pytest.raises(VerificationError, match="do not decrypt"):
        open_sealed(forged, bytes(range(32)))
    with pytest.raises(VerificationError, match="another devid"):
        open_sealed(sealed, ESCROW_PRIVATE, devid="ffffffffffffffff")
    with pytest.raises(VerificationError, match="another purpose"):
        open_sealed(sealed, ESCROW_PRIVATE, purpose="backup")


def test_malformed_sealed_dicts_are_protocol_errors() -> None:
    sealed = sealed_with(SCHEMES[0])
    with pytest.raises(ProtocolError, match="unknown sealing scheme"):
        open_sealed(dict(sealed, scheme="ROT13"), ESCROW_PRIVATE)
    with pytest.raises(ProtocolError, match="'enc' is not base64"):
        open_sealed(dict(sealed, enc="***"), ESCROW_PRIVATE)
    with pytest.raises(ProtocolError, match="lack their context"):
        open_sealed({k: v for k, v in sealed.items() if k != "context"}, ESCROW_PRIVATE)
    with pytest.raises(ProtocolError, match="32 bytes"):
        seal(BUNDLE, b"short", devid=DEVID, purpose="x")
