"""``ReplyBody``: the strict reader of the unit's JSON replies; every failure names the call and the field.

Example::

    body = ReplyBody.decode("GET", "/api/auth/init", response.content)  # not a JSON object: raises
    body.integer("exp")      # DeviceProtocolError(status=200, field="exp") if missing or not an integer
    body.base64("eid", 32)   # the text as sent, checked to decode to 32 bytes
    body.genuine()           # a well-formed ``genuine`` token, not yet verified against a key

Values the unit sends as base64 stay the text it sent (the typed replies in ``ppa/replies.py`` say why);
the reader only checks that they decode, to a size when one is given. Optional fields are read with the
``opt_`` accessors (absent is None) or with ``absent=`` (the documented meaning of absence). JSON ``null``
is never accepted: the unit omits fields, it does not null them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from station.core.errors import DeviceProtocolError, ProtocolError
from station.devices.ppa.protocol import b64decode, parse_genuine

_HEX = re.compile(r"^[0-9a-fA-F]*$")


def json_kind(value: object) -> str:
    """The JSON type of ``value`` in words, for messages (never the value itself: it may be huge, or a
    secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


class ReplyBody:
    """A JSON object reply and the call that produced it; accessors fail naming the field."""

    def __init__(self, method: str, path: str, data: Mapping[str, Any], status: int = 200) -> None:
        self.method, self.path, self.status, self.data = method, path, status, data

    @classmethod
    def decode(cls, method: str, path: str, content: bytes, status: int = 200) -> ReplyBody:
        """Parse the raw body: not JSON, not UTF-8 or not an object is a DeviceProtocolError."""
        shell = cls(method, path, {}, status)
        try:
            data = json.loads(content)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise shell.error(None, "is not JSON") from None
        if not isinstance(data, dict):
            raise shell.error(None, f"is {json_kind(data)}, not a JSON object")
        return cls(method, path, data, status)

    def error(self, field: str | None, problem: str) -> DeviceProtocolError:
        subject = "reply" if field is None else f"reply field {field!r}"
        return DeviceProtocolError(
            f"{self.method} {self.path}: {subject} {problem}",
            endpoint=self.path,
            status=self.status,
            field=field,
        )

    def _get(self, name: str, kinds: tuple[type, ...], wanted: str, *, required: bool = True) -> Any:
        if name not in self.data:
            if required:
                raise self.error(name, "is missing")
            return None
        value = self.data[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(name, f"is {json_kind(value)}, expected {wanted}")
        return value

    def text(self, name: str) -> str:
        return str(self._get(name, (str,), "a string"))

    def opt_text(self, name: str) -> str | None:
        value = self._get(name, (str,), "a string", required=False)
        return None if value is None else str(value)

    def integer(self, name: str) -> int:
        return int(self._get(name, (int,), "an integer"))

    def opt_integer(self, name: str) -> int | None:
        value = self._get(name, (int,), "an integer", required=False)
        return None if value is None else int(value)

    def number(self, name: str) -> float:
        return float(self._get(name, (int, float), "a number"))

    def flag(self, name: str, absent: bool | None = None) -> bool:
        """A JSON boolean; ``absent`` is its meaning when the unit leaves it out (None: required)."""
        value = self._get(name, (bool,), "a boolean", required=absent is None)
        return bool(absent) if value is None else bool(value)

    def opt_flag(self, name: str) -> bool | None:
        value = self._get(name, (bool,), "a boolean", required=False)
        return None if value is None else bool(value)

    def base64(self, name: str, size: int | None = None) -> str:
        """Base64 text, kept as sent, checked to decode (to ``size`` bytes when given)."""
        return self._checked_base64(name, self.text(name), size)

    def opt_base64(self, name: str, size: int | None = None) -> str | None:
        text = self.opt_text(name)
        return None if text is None else self._checked_base64(name, text, size)

    def _checked_base64(self, name: str, text: str, size: int | None) -> str:
        try:
            raw = b64decode(text)
        except ProtocolError:
            raise self.error(name, "is not base64") from None
        if size is not None and len(raw) != size:
            raise self.error(name, f"decodes to {len(raw)} bytes, expected {size}")
        return text

    def hex_text(self, name: str, size: int | None = None) -> str:
        text = self.text(name)
        if not _HEX.match(text) or len(text) % 2 or (size is not None and len(text) != 2 * size):
            wanted = "hex" if size is None else f"{size} bytes of hex"
            raise self.error(name, f"is not {wanted}")
        return text

    def genuine(self, name: str = "genuine") -> str:
        """A ``genuine`` token (reference §3.5): three base64 parts; verified later, against a key."""
        token = self.text(name)
        try:
            parse_genuine(token)
        except ProtocolError as exc:
            raise self.error(name, f"is not a genuine token ({exc})") from None
        return token

    def opt_genuine(self, name: str = "genuine") -> str | None:
        return None if name not in self.data else self.genuine(name)

    def texts(self, name: str, absent: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """A list of strings; ``absent`` is its meaning when left out (None: required)."""
        values = self._get(name, (list,), "a list", required=absent is None)
        if values is None:
            return absent or ()
        for index, item in enumerate(values):
            if not isinstance(item, str):
                raise self.error(name, f"item {index} is {json_kind(item)}, expected a string")
        return tuple(values)
