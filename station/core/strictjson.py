"""JSON from outside the station, parsed strictly: what ``json.loads`` lets through is refused here.

>>> strict_loads(b'{"inited": false, "temp": 31.5}')
{'inited': False, 'temp': 31.5}
>>> strict_loads(b'{"inited": false, "inited": true}')
Traceback (most recent call last):
station.core.strictjson.JsonRefused: has the key 'inited' twice
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

MAX_DEPTH = 32  # objects and arrays inside each other; the devices' replies nest two or three deep
_ESCAPE = re.compile(r"\\.", re.DOTALL)  # a backslash and the character it escapes
_STRING = re.compile(r'"[^"]*"')  # once escapes are gone, a string holds no quote (linear, no backtracking)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonRefused(ValueError):
    """Why a body is not strict JSON; ``problem`` completes "reply ..." and ``kind`` names the rule.

    ``kind`` is one of ``utf-8``, ``syntax``, ``duplicate`` (``key`` is the key), ``constant``, ``depth``.
    A ``ValueError``, as ``json.loads``' own errors are. The message never holds the body, only a key
    cut to 32 characters and shown as ``repr`` (control characters escaped).
    """

    def __init__(self, problem: str, kind: str, key: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.kind, self.key = problem, kind, key


def strict_loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Any JSON value from UTF-8 ``data``; JsonRefused if it is not JSON, not UTF-8, has a key twice in
    one object, holds NaN/Infinity (or a number too large for a float), or nests deeper than ``max_depth``.

    The depth is checked on the text before parsing: ``json.loads`` recurses once per level and a deep
    enough body would end in RecursionError.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("is not JSON", "utf-8") from None  # ``kind`` says why
    else:
        text = data
    if too_deep(text, max_depth):
        raise JsonRefused(f"is nested deeper than {max_depth} levels", "depth")
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_finite
        )
    except JsonRefused:
        raise
    except (ValueError, RecursionError):  # RecursionError: cannot happen after the depth check; kept safe
        raise JsonRefused("is not JSON", "syntax") from None


def too_deep(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays in ``text`` nest deeper than ``max_depth`` (checked before parsing)."""
    if text.count("[") + text.count("{") <= max_depth:
        return False  # fewer brackets than levels: no need to scan
    return nesting_depth(text, stop_above=max_depth) > max_depth


def nesting_depth(text: str, *, stop_above: int | None = None) -> int:
    """How deep objects and arrays nest in ``text`` (0 for a scalar), brackets inside strings ignored.

    Linear in the length of ``text``, whatever it holds; counting stops once it passes ``stop_above``.
    For text that is not JSON the count is an upper bound of what a parser reaches before its error.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonRefused(f"has the key {key[:32]!r} twice", "duplicate", key)
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise JsonRefused(f"holds {name}, which is not a JSON number", "constant")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("holds a number too large for a float", "constant")
    return value


def json_kind(value: object) -> str:
    """The JSON type of ``value`` in words, for messages (never the value itself: it may be huge, or a
    secret). Here, in core, so that device replies and stored records share it without loading each other."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
