"""RFC 8785 (JSON Canonicalization Scheme) bytes: the exact form a record's signature covers.

>>> canonical_json({"b": 1, "a": [True, None, 2.5]})
b'{"a":[true,null,2.5],"b":1}'
>>> parse_canonical(b'{ "a": 1 }')                  # one record, exactly one signed spelling
Traceback (most recent call last):
station.core.errors.RecordError: payload is not in RFC 8785 canonical form
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import rfc8785

from station.core.errors import RecordError
from station.core.strictjson import MAX_DEPTH, too_deep

SAFE_INTEGER = 2**53 - 1  # RFC 8785 (I-JSON): integers beyond this have no exact JSON number


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` (dicts, lists, str, int, float, bool, None only)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise RecordError(f"value cannot be written as canonical JSON: {exc}") from None


def parse_canonical(data: bytes, what: str = "payload") -> dict[str, Any]:
    """Parse ``data`` as a JSON object and insist it is already canonical (no duplicate keys, no NaN).

    ``what`` names the part in the error message ("payload", "protected header").
    """
    if data.isascii() and b"\\u" not in data:
        fast = _fast_form(data, what)
        if fast is not None:
            value, form = fast
            if form != data:
                raise RecordError(f"{what} is not in RFC 8785 canonical form")
            return value
    try:
        text = data.decode("utf-8")
        if too_deep(text, MAX_DEPTH):  # before json.loads, which recurses once per level
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        value = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not a JSON object")
    if canonical_json(value) != data:
        raise RecordError(f"{what} is not in RFC 8785 canonical form")
    return value


class _NotFast(Exception):
    """The text holds something only the ``rfc8785`` road serialises exactly (a fraction, a huge integer)."""


def _no_float(_: str) -> NoReturn:
    raise _NotFast


def _safe_int(text: str) -> int:
    if len(text) > 17:  # past 2**53 for sure (and past int()'s digit limit): the general road decides
        raise _NotFast
    number = int(text)
    if not -SAFE_INTEGER <= number <= SAFE_INTEGER:
        raise _NotFast
    return number


def _fast_form(data: bytes, what: str) -> tuple[dict[str, Any], bytes] | None:
    """``(value, its RFC 8785 bytes)`` for ASCII ``data`` without ``\\u`` escapes; None: use the general road.

    Why the standard library's C encoder then writes exactly what RFC 8785 does: every string decodes to
    code points below U+0080 (ASCII text, and no ``\\u`` escape to make others), where sorting keys by
    code point is sorting by UTF-16 code unit, and both write ``"`` ``\\`` and the control characters a
    short escape can make (``\\b \\t \\n \\f \\r``) the same way and everything else raw; numbers are
    integers within RFC 8785's exact range (a fraction or a larger integer goes the general road), which
    both write as plain decimal digits; ``true``, ``false``, ``null``, ``[]``, ``{}`` and the separators
    agree. Errors are raised as the general road raises them: the same decoder, hooks and depth check.
    tests/records/test_canonical.py holds both roads to the same answer on records and edge cases.
    """
    text = data.decode("ascii")
    try:
        if too_deep(text, MAX_DEPTH):
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        try:
            value = _PLAIN_DECODER.decode(text)
        except ValueError:
            value = None  # which error comes first (a repeated key?) is the hooked decoder's to say
        if isinstance(value, dict):
            form = _FAST_ENCODER.encode(value).encode("ascii")
            if form == data:  # a repeated key would be missing from the form: there was none
                return value, form
        value = _FAST_DECODER.decode(text)  # the first repeated key, if any, named as the general road does
    except _NotFast:
        return None
    except ValueError as exc:
        raise RecordError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not a JSON object")
    return value, _FAST_ENCODER.encode(value).encode("ascii")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in canonical JSON")


_FAST_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_no_float,
    parse_int=_safe_int,
)
_PLAIN_DECODER = json.JSONDecoder(  # no hook per object: repeated keys show as a form that differs
    parse_constant=_refuse_constant, parse_float=_no_float, parse_int=_safe_int
)
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"), check_circular=False
)
