"""RFC 8785 canonical JSON, checked with the RFC's own examples (§3.2.2, §3.2.3, Appendix B)."""

from __future__ import annotations

import json
import struct

import pytest

from station.core.errors import RecordError
from station.records.canonical import canonical_json, parse_canonical


def test_rfc8785_section_3_2_2_sample() -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorts_keys_by_utf16_code_units() -> None:
    source = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    result = json.loads(canonical_json(source))
    # U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in code points.
    assert list(result) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    # Only the control character is escaped; the rest is raw UTF-8 (U+0080 as C2 80).
    assert canonical_json({"\u0080": 1}) == b'{"\xc2\x80":1}'
    assert canonical_json({"\r": 1}) == b'{"\\r":1}'


@pytest.mark.parametrize(
    ("ieee754_hex", "text"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_rfc8785_appendix_b_numbers(ieee754_hex: str, text: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(ieee754_hex))
    assert canonical_json(value) == text.encode("ascii")


@pytest.mark.parametrize("ieee754_hex", ["7fffffffffffffff", "7ff0000000000000"])
def test_rfc8785_appendix_b_nan_and_infinity_are_errors(ieee754_hex: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(ieee754_hex))
    with pytest.raises(RecordError, match="canonical JSON"):
        canonical_json(value)


def test_integers_outside_ieee754_precision_are_refused() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    with pytest.raises(RecordError):
        canonical_json(2**53 + 1)


def test_parse_canonical_round_trip() -> None:
    value = {"b": [1, 2.5, "é"], "a": {"z": None, "y": True}}
    assert parse_canonical(canonical_json(value)) == value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{ "a": 1 }', "canonical form"),
        (b'{"b":1,"a":2}', "canonical form"),
        (b'{"a":1.0}', "canonical form"),
        (b'{"a":"\\u00e9"}', "canonical form"),
        (b'{"a":1,"a":1}', "duplicate key"),
        (b'{"a":NaN}', "not allowed"),
        (b"[1]", "not a JSON object"),
        (b"\xff", "not JSON"),
    ],
)
def test_parse_canonical_refuses_other_spellings(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_canonical(data)
