r"""Register keys and values of a Companion configuration body: ``ADDR[.MODIFIER]`` and the bytes they mean.

>>> split_key("C0.I"), to_bytes("integer", 513, sizes=(2,)), to_bytes("boolean", True)   # modifier: any case
(('C0', 'integer'), b'\x02\x01', b'\x01')
>>> to_bytes("integer", -1)                             # the message never quotes the value
Traceback (most recent call last):
station.devices.springcore.values.ValueRejected: a .i value must not be negative
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from station.core.strictjson import json_kind

MODIFIERS = {
    "s": "string",
    "string": "string",
    "i": "integer",
    "integer": "integer",
    "b": "boolean",
    "bool": "boolean",
    "boolean": "boolean",
    "64": "base64",
    "base64": "base64",
    "16": "hex",
    "h": "hex",
    "hex": "hex",
}
MAX_VALUE = 64  # bytes: the largest register or template entry there is

_HEX = re.compile(r"[0-9a-fA-F]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class ValueRejected(Exception):
    """A key or value breaks ``rule`` ("modifier", "value", "size"); ``detail`` never quotes the value."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def split_key(key: str) -> tuple[str, str]:
    """(address text, canonical modifier name) of ``ADDR`` or ``ADDR.MODIFIER``; no modifier means hex."""
    address, dot, modifier = key.partition(".")
    if not dot:
        return address, "hex"
    try:
        return address, MODIFIERS[modifier.lower()]
    except KeyError:
        choices = ", ".join(f".{name}" for name in MODIFIERS)
        raise ValueRejected("modifier", f"unknown format modifier {modifier[:16]!r}; use {choices}") from None


def to_bytes(modifier: str, value: Any, *, sizes: tuple[int, ...] = ()) -> bytes:
    """The raw bytes ``value`` stands for under ``modifier``; ``sizes`` (exact sizes) shapes integers."""
    if modifier == "integer":
        return _integer(value, sizes)
    if modifier == "boolean":
        if not isinstance(value, bool):
            raise ValueRejected("value", f"a .b value must be JSON true or false, not {json_kind(value)}")
        return b"\x01" if value else b"\x00"
    if not isinstance(value, str):
        hint = "" if modifier != "hex" else " (use a modifier such as .i or .b for other JSON types)"
        raise ValueRejected("value", f"the value must be a JSON string, not {json_kind(value)}{hint}")
    if modifier == "string":
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape ("\\ud800") has no UTF-8 form
            raise ValueRejected("value", "the text is not valid Unicode") from None
    if modifier == "base64":
        return _base64(value)
    return _hex(value)


def _hex(text: str) -> bytes:
    if not _HEX.fullmatch(text) or len(text) % 2:
        raise ValueRejected("value", 'the value is not hex (an even number of hex digits, or "" for blank)')
    return bytes.fromhex(text)


def _base64(text: str) -> bytes:
    if not _BASE64.fullmatch(text):
        raise ValueRejected("value", "the value is not standard base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueRejected("value", "the value is not standard base64") from None


def _integer(value: Any, sizes: tuple[int, ...]) -> bytes:
    """Big-endian in the smallest of ``sizes`` that holds it; with no sizes, in the fewest bytes (>= 1)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueRejected("value", f"a .i value must be a JSON integer, not {json_kind(value)}")
    if value < 0:
        raise ValueRejected("value", "a .i value must not be negative")
    needed = max(1, (value.bit_length() + 7) // 8)
    if needed > MAX_VALUE:
        raise ValueRejected("size", f"the integer needs {needed} bytes, more than any register holds")
    fitting = [size for size in sorted(sizes) if size >= needed]
    if sizes and not fitting:
        raise ValueRejected("size", f"the integer needs {needed} bytes; the register takes {_sizes(sizes)}")
    return value.to_bytes(fitting[0] if fitting else needed, "big")


def _sizes(sizes: tuple[int, ...]) -> str:
    return " or ".join(map(str, sizes)) + " bytes"
