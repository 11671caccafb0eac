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


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in canonical JSON")
