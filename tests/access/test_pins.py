"""PIN hashing and PIN rules: scrypt parameters in the string, no PIN in the hash or in any text."""

from __future__ import annotations

import base64

import pytest

from station.access.pins import SCRYPT_N, Pin, check_new_pin, hash_pin, parse_hash, verify_pin
from station.core.errors import AccessError

PIN = "482913"


def test_the_right_pin_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_pin(Pin(PIN))
    assert verify_pin(Pin(PIN), stored)
    assert not verify_pin(Pin("482914"), stored)
    assert not verify_pin(Pin("4829130"), stored)


def test_the_hash_names_scrypt_and_its_parameters_and_holds_no_pin() -> None:
    stored = hash_pin(Pin(PIN))
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert SCRYPT_N == 2**15
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert PIN not in stored


def test_two_hashes_of_one_pin_differ_by_their_salt() -> None:
    first, second = hash_pin(Pin(PIN), n=2**10), hash_pin(Pin(PIN), n=2**10)
    assert first != second
    assert verify_pin(Pin(PIN), first) and verify_pin(Pin(PIN), second)


def test_parameters_come_from_the_stored_string() -> None:
    weaker = hash_pin(Pin(PIN), n=2**10, r=4, p=2)
    assert parse_hash(weaker)[:3] == (2**10, 4, 2)
    assert verify_pin(Pin(PIN), weaker)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("bcrypt$xyz", "not in the form"),
        (
            "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "unsupported",
        ),
        ("scrypt$4294967296$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "unsupported"),
        ("scrypt$1024$8$1$AA==$AAAAAAAAAAAAAAAAAAAAAA==", "too short"),
    ],
)
def test_a_doctored_hash_is_refused_before_any_work(stored: str, message: str) -> None:
    with pytest.raises(AccessError, match=message):
        verify_pin(Pin(PIN), stored)


@pytest.mark.parametrize(
    ("digits", "rule"),
    [
        ("48291", "6 to 12 digits"),
        ("4829134829134", "6 to 12 digits"),
        ("777777", "one digit repeated"),
        ("123456", "straight run"),
        ("876543", "straight run"),
        ("890123", "straight run"),
    ],
)
def test_a_new_pin_must_meet_the_rules_and_the_refusal_never_shows_it(digits: str, rule: str) -> None:
    with pytest.raises(AccessError, match=rule) as refused:
        check_new_pin(Pin(digits))
    assert digits not in str(refused.value)


@pytest.mark.parametrize("text", ["48 2913", "48291a", "", "٤٨٢٩١٣", "1" * 65])
def test_a_pin_is_ascii_digits_only(text: str) -> None:
    with pytest.raises(AccessError, match="digits only") as refused:
        Pin(text)
    assert not text or text not in str(refused.value)


def test_a_pin_never_prints() -> None:
    pin = Pin(PIN)
    assert PIN not in repr(pin) and PIN not in str(pin) and PIN not in f"{pin} {pin!r} {[pin]}"
    check_new_pin(pin)  # a good PIN passes the rules
