"""The pure protocol functions, checked against the published vectors of docs/reference/encedo-ppa-api.md."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from station.core import codec
from station.core.errors import ProtocolError, VerificationError
from station.devices.ppa import protocol as p
from station.devices.ppa.auditlog import log_line_mac, verify_audit_log
from station.devices.ppa.checkin import sign_checked, verify_check

# Reference §5.2 test vector (from the C SDK via the JS client, reproduced independently).
VECTOR_PASSPHRASE = "correct horse battery staple"
VECTOR_EID = "d4ad81b06b1d493ab2b6f9b1a3e2c7f0"
VECTOR_SPK = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
VECTOR_ISS = "CdLq53eX780FeZR4/hOee5rTtcl7ajJdYwVwcjL5cxY="
VECTOR_HEADER = "eyJlY2RoIjoieDI1NTE5IiwiYWxnIjoiSFMyNTYiLCJ0eXAiOiJKV1QifQ"
VECTOR_CLAIMS = (
    "eyJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmIiwiYXVkIjoiQVFFQkFRRUJBUUVCQVFFQkFRRUJBUUVCQVFFQkFRRUJBUUVCQVFFQkFRRT0iLCJle"
    "HAiOjE3MDAwMDM2MDAsImlhdCI6MTcwMDAwMDAwMCwiaXNzIjoiQ2RMcTUzZVg3ODBGZVpSNC9oT2VlNXJUdGNsN2FqSmRZd1Z3Y2pMNWN4WT0i"
    "LCJzY29wZSI6ImtleW1nbXQ6Z2VuIn0"
)
VECTOR_TAG = "oPm7pWzqB9VImg5OpTllCqbQAO-xkdgoRfdzyLj09qE"

# BIP39 specification vector (entropy 00 * 32, passphrase "TREZOR").
BIP39_ZERO_MNEMONIC = " ".join(["abandon"] * 23 + ["art"])
BIP39_ZERO_SEED = (
    "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2"
    "a5e608d68f92fcc8"
)


@pytest.fixture(scope="module")
def vector_user_key() -> bytes:
    return p.derive_user_private_key(VECTOR_PASSPHRASE, VECTOR_EID)


def test_user_key_derivation_matches_published_iss(vector_user_key: bytes) -> None:
    assert codec.x25519_public_b64(vector_user_key) == VECTOR_ISS


def test_auth_jwt_matches_published_vector(vector_user_key: bytes) -> None:
    claims = {
        "jti": "0123456789abcdef",
        "aud": VECTOR_SPK,
        "exp": 1700003600,
        "iat": 1700000000,
        "iss": VECTOR_ISS,
        "scope": "keymgmt:gen",
    }
    shared = p.x25519_shared_secret(vector_user_key, codec.b64decode(VECTOR_SPK))
    assert p.encode_ecdh_jwt(claims, shared) == f"{VECTOR_HEADER}.{VECTOR_CLAIMS}.{VECTOR_TAG}"


def test_parse_and_verify_round_trip(vector_user_key: bytes) -> None:
    shared = p.x25519_shared_secret(vector_user_key, codec.b64decode(VECTOR_SPK))
    jwt = p.parse_jwt(f"{VECTOR_HEADER}.{VECTOR_CLAIMS}.{VECTOR_TAG}")
    assert p.is_ecdh_header(jwt.header)
    assert jwt.claims["scope"] == "keymgmt:gen"
    p.verify_hs256(jwt, shared)
    with pytest.raises(VerificationError):
        p.verify_hs256(jwt, bytes(32))


def test_audit_log_mac_matches_published_vector() -> None:
    key = codec.b64decode("NgPWx9MnmngrKa7xkSuQnDcwBlDV5JeR0OoX6gFyMpo")
    assert log_line_mac(key, "1|62310ba5|1|0|||") == "rfB1gKL0hTi5tGh8PDerAA"


def test_bip39_seed_matches_specification_vector() -> None:
    assert p.bip39_seed(BIP39_ZERO_MNEMONIC, "TREZOR").hex() == BIP39_ZERO_SEED


def test_master_key_reproduces_manager_nibble_offset() -> None:
    seed = p.bip39_seed(BIP39_ZERO_MNEMONIC)
    expected = bytes(((seed[i] << 4) & 0xFF) | (seed[i + 1] >> 4) for i in range(32))
    assert p.master_private_key_from_mnemonic(BIP39_ZERO_MNEMONIC) == expected
    assert expected != seed[:32]


def test_generated_mnemonic_is_valid_and_fresh() -> None:
    first, second = p.generate_mnemonic(), p.generate_mnemonic()
    assert len(first.split()) == 24
    p.validate_mnemonic(first)
    assert first != second


@pytest.mark.parametrize(
    "mnemonic",
    [
        " ".join(["abandon"] * 24),  # wrong checksum
        " ".join(["abandon"] * 23 + ["zzzz"]),  # unknown word
        " ".join(["abandon"] * 11 + ["about"]),  # 12 words: valid BIP39, but not a 24-word master mnemonic
    ],
)
def test_invalid_mnemonics_are_refused(mnemonic: str) -> None:
    with pytest.raises(ProtocolError):
        p.validate_mnemonic(mnemonic)


def test_genuine_token_round_trip_and_rejections() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = p.make_genuine(key, 1_700_000_000)
    parsed = p.verify_genuine(token, key.public_key(), now=1_700_000_100)
    assert parsed.timestamp == 1_700_000_000
    assert parsed.ski == p.attestation_ski(key.public_key())
    with pytest.raises(VerificationError, match="stale"):
        p.verify_genuine(token, key.public_key(), now=1_700_000_601)
    with pytest.raises(VerificationError, match="stale"):
        p.verify_genuine(token, key.public_key(), now=1_699_999_939)
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationError, match="another key"):
        p.verify_genuine(token, other.public_key(), now=1_700_000_000)
    ski, _stamp, sig = token.split(".")
    forged = ".".join([ski, codec.b64encode(b"1700000001"), sig])
    with pytest.raises(VerificationError, match="signature"):
        p.verify_genuine(forged, key.public_key(), now=1_700_000_000)
    with pytest.raises(ProtocolError):
        p.parse_genuine("a.b")


def test_bearer_token_claims() -> None:
    token = p.make_bearer_token(b"k" * 32, scope="system:config", sub="U", iat=10, exp=28810, jti="x")
    jwt = p.parse_jwt(token)
    assert jwt.header == {"typ": "JWT", "alg": "HS256"}
    assert jwt.claims == {"scope": "system:config", "sub": "U", "iat": 10, "exp": 28810, "jti": "x"}
    p.verify_hs256(jwt, b"k" * 32)


def test_nonce_layout() -> None:
    nonce = p.make_nonce(0x6239839B, bytes(28))
    assert len(nonce) == 32
    assert nonce[:4] == bytes.fromhex("9b833962")


def test_instanceid_is_a_deterministic_uuid4() -> None:
    first = p.derive_instanceid(bytes(32), b"\x01" * 32, "2023b758c209269a")
    assert first == p.derive_instanceid(bytes(32), b"\x01" * 32, "2023b758c209269a")
    assert first[14] == "4"
    assert first != p.derive_instanceid(bytes(32), b"\x02" * 32, "2023b758c209269a")


def test_check_and_checked_round_trip() -> None:
    backend = bytes(range(32))
    session = bytes(range(32, 64))
    check = p.encode_ecdh_jwt(
        {"jti": "n1", "iss": codec.x25519_public_b64(session)},
        p.x25519_shared_secret(session, codec.x25519_public_key(backend)),
    )
    request = verify_check(check, backend)
    assert request.jti == "n1"
    checked = p.parse_jwt(sign_checked(request, backend, iat=1_700_000_000, status="W"))
    assert checked.claims["status"] == "W"
    p.verify_hs256(checked, p.x25519_shared_secret(session, codec.x25519_public_key(backend)))
    with pytest.raises(VerificationError):
        verify_check(check, bytes(range(1, 33)))


def _signed_log(signer: ed25519.Ed25519PrivateKey, records: list[str]) -> str:
    key = bytes(range(32))
    head = f"0|10|0|0|{codec.b64url_encode(key)}|{codec.b64url_encode(signer.sign(key))}|"
    lines = [head + log_line_mac(key, head)]
    for seq, body in enumerate(records, start=1):
        prefix = f"{seq:x}|{body}|"
        lines.append(prefix + log_line_mac(key, prefix))
    return "# Encedo nGINE FW v1.2.2\n" + "\n".join(lines) + "\n"


def test_audit_log_verification_detects_tampering() -> None:
    signer = ed25519.Ed25519PrivateKey.generate()
    public = codec.ed25519_public_raw(signer)
    text = _signed_log(signer, ["10|1|0||", "11|d|0|U|c3lzdGVtOmNvbmZpZw"])
    records = verify_audit_log(text, public)
    assert [r.type for r in records] == [0, 1, 13]
    with pytest.raises(VerificationError, match="record 2 has a bad MAC"):
        verify_audit_log(text.replace("|d|0|U|", "|d|1|U|"), public)
    with pytest.raises(VerificationError, match="eid_sign"):
        verify_audit_log(text, codec.ed25519_public_raw(ed25519.Ed25519PrivateKey.generate()))
    lines = text.splitlines()
    with pytest.raises(VerificationError, match="sequence"):
        verify_audit_log("\n".join([lines[0], lines[1], lines[3]]), public)
