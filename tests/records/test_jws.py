"""Compact JWS with EdDSA: round trips, the RFC 8037 vector, strict decoding, one changed byte anywhere."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.core.codec import b64url_encode, ed25519_public_raw
from station.core.errors import RecordError, SignatureError
from station.records import jws

PAYLOAD = {"seq": 1, "unit": {"devid": "2023b758c209269a"}, "ok": True}


def _b64url_json(value: object) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def test_sign_verify_round_trip_and_header(signing_key: Ed25519PrivateKey) -> None:
    kid = jws.key_id(signing_key.public_key())
    token = jws.sign(PAYLOAD, signing_key, kid)
    assert jws.verify(token, signing_key.public_key()) == PAYLOAD
    header, payload = jws.peek(token)
    assert header == {"alg": "EdDSA", "kid": kid, "typ": "ppa-station-record+jws"}
    assert payload == PAYLOAD
    assert token.split(".")[0] == b64url_encode(
        b'{"alg":"EdDSA","kid":"' + kid.encode() + b'","typ":"ppa-station-record+jws"}'
    )
    assert jws.sign(PAYLOAD, signing_key, kid) == token  # Ed25519 and RFC 8785 are both deterministic


def test_key_id_is_sha256_prefix_of_raw_public_key(signing_key: Ed25519PrivateKey) -> None:
    raw = ed25519_public_raw(signing_key.public_key())
    assert jws.key_id(signing_key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def test_rfc8037_appendix_a4_vector() -> None:
    key = Ed25519PrivateKey.from_private_bytes(
        base64.urlsafe_b64decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
    )
    assert b64url_encode(ed25519_public_raw(key)) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    token = jws.compact_sign(b'{"alg":"EdDSA"}', b"Example of Ed25519 signing", key)
    assert token == (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    with pytest.raises(RecordError, match="protected header has fields"):
        jws.peek(token)  # a valid JWS, but not one of ours: no kid, no typ


def test_sign_refuses_a_key_id_that_names_another_key(signing_key: Ed25519PrivateKey) -> None:
    other = jws.key_id(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(RecordError, match="does not name the signing key"):
        jws.sign(PAYLOAD, signing_key, other)


def test_verify_with_another_key_is_a_signature_error(signing_key: Ed25519PrivateKey) -> None:
    token = jws.sign(PAYLOAD, signing_key, jws.key_id(signing_key.public_key()))
    with pytest.raises(SignatureError, match="signed by key"):
        jws.verify(token, Ed25519PrivateKey.generate().public_key())


def test_forged_payload_is_a_signature_error(signing_key: Ed25519PrivateKey) -> None:
    token = jws.sign(PAYLOAD, signing_key, jws.key_id(signing_key.public_key()))
    header, _, signature = token.split(".")
    forged = f"{header}.{_b64url_json({'ok': False})}.{signature}"
    with pytest.raises(SignatureError, match="does not verify"):
        jws.verify(forged, signing_key.public_key())


def test_every_single_character_change_is_detected(signing_key: Ed25519PrivateKey) -> None:
    token = jws.sign({"seq": 7}, signing_key, jws.key_id(signing_key.public_key()))
    for position, char in enumerate(token):
        for replacement in {"A", "B", "_", "."} - {char}:
            tampered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(RecordError):
                jws.verify(tampered, signing_key.public_key())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a.b", "3"),
        ("a.b.c.d", "3"),
        ("!!!.e30.AAAA", "base64url"),
        ("eyJ9=.e30.AAAA", "base64url"),
    ],
)
def test_malformed_text_is_a_record_error_not_a_signature_error(token: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason) as caught:
        jws.peek(token)
    assert not isinstance(caught.value, SignatureError)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "kid": "0123456789abcdef", "typ": "ppa-station-record+jws"},
        {"alg": "HS256", "kid": "0123456789abcdef", "typ": "ppa-station-record+jws"},
        {"alg": "EdDSA", "kid": "0123456789abcdef", "typ": "JWT"},
        {"alg": "EdDSA", "kid": "short", "typ": "ppa-station-record+jws"},
        {"alg": "EdDSA", "kid": "0123456789abcdef", "typ": "ppa-station-record+jws", "crit": ["x"]},
    ],
)
def test_foreign_headers_are_refused(header: dict[str, object]) -> None:
    token = f"{_b64url_json(header)}.{_b64url_json({'seq': 1})}.{b64url_encode(bytes(64))}"
    with pytest.raises(RecordError, match="protected header"):
        jws.peek(token)


def test_trusted_keys_from_maps_key_ids(signing_key: Ed25519PrivateKey) -> None:
    public = signing_key.public_key()
    assert jws.trusted_keys_from([public]) == {jws.key_id(public): public}


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 63, 64])
def test_only_the_canonical_base64url_spelling_is_accepted(length: int) -> None:
    """Every last character of a segment: accepted exactly when re-encoding the bytes gives it back."""
    from station.records.jws import _b64url_decode

    base = b64url_encode(bytes(range(length)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    verdicts = set()
    for last in alphabet:
        segment = base[:-1] + last
        try:
            decoded = _b64url_decode(segment, "payload")
        except RecordError as exc:
            assert "not canonical base64url" in str(exc)
            verdicts.add(False)
            assert b64url_encode(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))) != segment
        else:
            verdicts.add(True)
            assert b64url_encode(decoded) == segment
    assert True in verdicts


@pytest.mark.parametrize(
    "segment", ["", "A", "AA", "AAA", "AAAA", "-_-_", "ab-_cQ", "ab-_cd", "abc\n", "ab+/", "ab==", "a b", "é"]
)
def test_base64url_segments_decode_as_the_standard_library_decodes_them(segment: str) -> None:
    """``_b64url_decode`` skips ``base64.urlsafe_b64decode``'s wrappers: what it accepts decodes alike."""
    from station.records.jws import _b64url_decode

    try:
        ours: bytes | None = _b64url_decode(segment, "payload")
    except RecordError:
        ours = None
    try:
        theirs: bytes | None = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        theirs = None
    if ours is not None:
        assert ours == theirs
    else:  # we refuse more: other alphabets, padding, empty text, unused bits set (a second spelling)
        assert theirs is None or segment in ("", "ab+/", "ab==", "a b", "ab-_cd")
