"""The fast road of ``parse_canonical`` gives the RFC 8785 answer: same value, or the same error, as the
general road (kept here as the oracle: ``json.loads`` then the ``rfc8785`` package) on real records and
on generated edge cases (unicode, escapes, numbers, nesting, duplicate keys, bad spellings)."""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.core.errors import RecordError
from station.core.strictjson import MAX_DEPTH, too_deep
from station.records import canonical, jws
from station.records.canonical import parse_canonical
from station.records.model import GENESIS_PREV, SOFTWARE, StationInfo, build_payload
from tests.records.factories import CONFIG_SHA256, draft, make_ca

Outcome = tuple[str, Any]


def oracle(data: bytes, what: str = "payload") -> dict[str, Any]:
    """``parse_canonical`` as it was before the fast road: the reference answer."""
    try:
        text = data.decode("utf-8")
        if too_deep(text, MAX_DEPTH):
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        value = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not a JSON object")
    try:
        form = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise RecordError(f"value cannot be written as canonical JSON: {exc}") from None
    if form != data:
        raise RecordError(f"{what} is not in RFC 8785 canonical form")
    return value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in canonical JSON")


def outcome(parse: Any, data: bytes) -> Outcome:
    try:
        value = parse(data)
    except RecordError as exc:
        return "error", str(exc)
    return "value", (value, json.dumps(value, sort_keys=True))  # dumps: 1 and 1.0, True and 1 differ


def assert_same(data: bytes) -> Outcome:
    expected = outcome(oracle, data)
    assert outcome(parse_canonical, data) == expected, data
    return expected


ALPHABET = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f", "é",
            "\u2028", "\u20ac", "\ue000", "\ufb33", "\uffff", "\U0001f600", "\U00010000", "kid"]  # fmt: skip
NUMBERS = [0, 1, -1, 7, 2**53 - 1, -(2**53) + 1, 2**53, 2**53 + 1, -(2**53), 10**17, 10**30,
           0.5, 2.5, -0.0, 1e21, 1e-7, 1e30, 333333333.33333329, 5e-324, 1.7976931348623157e308]  # fmt: skip


def random_string(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 6)))


def random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 5 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind in (1, 2):
        return rng.choice(NUMBERS) if kind == 1 else rng.randrange(-1000, 1000)
    if kind in (3, 4):
        return random_string(rng)
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {random_string(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def spellings(value: dict[str, Any], rng: random.Random) -> list[bytes]:
    """The canonical bytes of ``value`` (when it has them) and other spellings a forger might try."""
    texts = [
        json.dumps(value),
        json.dumps(value, ensure_ascii=False, separators=(",", ":")),
        json.dumps(value, sort_keys=True, separators=(",", ":")),
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
    ]
    found = [text.encode("utf-8", "surrogatepass") for text in texts]
    with contextlib.suppress(rfc8785.CanonicalizationError):
        found.append(rfc8785.dumps(value))
    base = found[-1]
    if len(base) > 2:  # one byte changed, dropped or doubled
        at = rng.randrange(len(base))
        found += [base[:at] + base[at + 1 :], base[:at] + base[at : at + 1] * 2 + base[at + 1 :]]
        found.append(base[:at] + bytes([rng.randrange(256)]) + base[at + 1 :])
    return found


def test_the_roads_agree_on_generated_values_and_their_spellings() -> None:
    rng = random.Random(8785)
    answers = set()
    for _ in range(3000):
        value = {random_string(rng): random_value(rng, 1) for _ in range(rng.randrange(0, 5))}
        for data in spellings(value, rng):
            answers.add(assert_same(data)[0])
    assert answers == {"error", "value"}  # both verdicts were reached


@pytest.mark.parametrize(
    "data",
    [
        b"{}",
        b'{"a":1}',
        b'{"a":-0}',
        b'{"a":01}',
        b'{"a":1.0}',
        b'{"a":1e2}',
        b'{"a":9007199254740991}',
        b'{"a":-9007199254740991}',
        b'{"a":9007199254740992}',
        b'{"a":99999999999999999999999}',
        b'{"a":' + b"9" * 5000 + b"}",
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":"\\/"}',
        b'{"a":"/"}',
        b'{"a":"\\n"}',
        b'{"a":"\\u000a"}',
        b'{"a":"\\u001f"}',
        b'{"a":"\\u007f"}',
        b'{"a":"\x7f"}',
        b'{"a":"\\ud800"}',
        b'{"a":"\\ud83d\\ude00"}',
        '{"a":"\U0001f600"}'.encode(),
        '{"\U0001f600":1,"\ufb33":2}'.encode(),
        '{"\ufb33":2,"\U0001f600":1}'.encode(),
        b'{"a":1,"a":1}',
        b'{"a":1,"b":{"c":1,"c":2}}',
        b'{"a":1,"a":NaN}',
        b'{"a":1,"a":2,"b":}',
        b'{"a":1,"a":2.5}',
        b'{"a":{"b":1,"b":1},"c":[1,2}',
        b'{"b":1,"a":2}',
        b'{"a":[1,2,]}',
        b'{"a":1} ',
        b' {"a":1}',
        b'{"a":1}{}',
        b"[1]",
        b'"a"',
        b"1",
        b"",
        b"\xff",
        b"\xef\xbb\xbf{}",
        b'{"a":' * 40 + b"1" + b"}" * 40,
        b'{"a":' * 200 + b"1" + b"}" * 200,
        b'{"a":[' + b"[" * 300 + b"]" * 300 + b"]}",
        b'{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
        b'{"a":true,"b":false,"c":null}',
        b'{"a":True}',
    ],
)
def test_the_roads_agree_on_edge_cases(data: bytes) -> None:
    assert_same(data)


def test_the_roads_agree_on_signed_records() -> None:
    """A corpus of records as the writer makes them (passing with a certificate, failing), and the
    protected header, each as signed and with one field respelled."""
    key, ca = Ed25519PrivateKey.generate(), make_ca()
    kid = jws.key_id(key.public_key())
    station = StationInfo("line1-st01", SOFTWARE, CONFIG_SHA256, kid)
    header = canonical.canonical_json({"alg": jws.ALG, "kid": kid, "typ": jws.TYP})
    assert assert_same(header)[0] == "value"
    for seq in range(1, 41):
        passing = seq % 4 == 1
        made = draft(ca if passing else None, outcome="pass" if passing else "fail")
        payload = build_payload(
            made, station=station, seq=seq, prev=GENESIS_PREV, record_id=str(uuid.uuid4())
        )
        data = canonical.canonical_json(payload)
        assert assert_same(data)[0] == "value"
        assert assert_same(data.replace(b'"seq":', b'"seq": '))[0] == "error"
        assert assert_same(data.replace(b'"simulated":true', b'"simulated":1'))[0] == "value"
