"""The shared encodings of core/codec.py: the device's lenient base64, compact JSON, raw key bytes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from station.core import codec
from station.core.errors import ProtocolError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AQID", b"\x01\x02\x03"),
        ("AQI", b"\x01\x02"),
        ("AQI=", b"\x01\x02"),
        ("-_8", b"\xfb\xff"),
        ("+/8=", b"\xfb\xff"),
    ],
)
def test_lenient_base64(text: str, expected: bytes) -> None:
    assert codec.b64decode(text) == expected


@pytest.mark.parametrize("text", ["A", "AQ$D", "====", 5])
def test_bad_base64_is_a_protocol_error(text: object) -> None:
    with pytest.raises(ProtocolError):
        codec.b64decode(text)  # type: ignore[arg-type]


def test_encoders() -> None:
    assert codec.b64encode(b"\xfb\xff") == "+/8="
    assert codec.b64url_encode(b"\xfb\xff") == "-_8"
    assert codec.compact_json({"a": "x/y", "b": [1, 2]}) == b'{"a":"x/y","b":[1,2]}'


def test_key_encodings_have_the_raw_sizes_and_forms() -> None:
    private = bytes(range(32))
    assert len(codec.x25519_public_key(private)) == 32
    assert codec.b64decode(codec.x25519_public_b64(private)) == codec.x25519_public_key(private)
    signer = ed25519.Ed25519PrivateKey.generate()
    assert codec.ed25519_public_raw(signer) == codec.ed25519_public_raw(signer.public_key())
    assert len(codec.ed25519_public_raw(signer)) == 32
    point = codec.p256_uncompressed(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert len(point) == 65 and point[0] == 4
