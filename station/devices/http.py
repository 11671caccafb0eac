"""The HTTP edge both device clients share: transport failures as station errors, a strict JSON reader.

>>> body = JsonReply.decode("GET", "/api/auth/init", b'{"exp": 1700000060, "eid": "AAEC"}')
>>> body.integer("exp"), body.base64("eid", size=3), body.opt_text("spk")   # base64 stays the text sent
(1700000060, 'AAEC', None)
>>> describe_failure(ConnectionRefusedError())                   # (timed out?, the cause in plain words)
(False, 'connection refused (no unit listening)')
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Self

import requests
import urllib3.exceptions

from station.core.codec import b64decode
from station.core.errors import (
    DeviceProtocolError,
    ProtocolError,
)
from station.core.strictjson import JsonRefused, json_kind, strict_loads

_HEX = re.compile(r"^[0-9a-fA-F]*$")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
DEVICE_TEXT_MAX = 128  # characters of a device string (hwv, fwv, a hostname, a reader's name)

# --- a request that got no answer --------------------------------------------------------------------------


# Causes of a failed connection, most specific first; found anywhere in the exception's chain. ``{peer}``
# is who was asked: "unit" for a unit, "service" for the factory backend.
_CAUSES: tuple[tuple[type[BaseException], bool, str], ...] = (
    # Only the factory backend goes through a proxy (units never do): the proxy's own failure first, as
    # the OS-level cause under it (refused, reset) is the proxy's, not the service's.
    (urllib3.exceptions.ProxyError, False, "the proxy could not be reached or would not connect us"),
    (ConnectionRefusedError, False, "connection refused (no {peer} listening)"),
    (ConnectionResetError, False, "connection reset by the {peer}"),
    (http.client.RemoteDisconnected, False, "the {peer} closed the connection without answering"),
    (BrokenPipeError, False, "connection broken while sending"),
    (ssl.SSLError, False, "TLS handshake or certificate check failed"),
    (urllib3.exceptions.SSLError, False, "TLS handshake or certificate check failed"),
    (socket.gaierror, False, "host name not resolved"),
    (urllib3.exceptions.NameResolutionError, False, "host name not resolved"),
    # After the OS-level causes: urllib3's NewConnectionError (refused) subclasses ConnectTimeoutError,
    # and is no timeout (an unreachable network, an interface gone while connecting).
    (urllib3.exceptions.NewConnectionError, False, "could not connect (no route to the {peer})"),
    (urllib3.exceptions.ReadTimeoutError, True, "read timed out"),
    (urllib3.exceptions.ConnectTimeoutError, True, "connect timed out"),
    (TimeoutError, True, "timed out"),
    (urllib3.exceptions.ProtocolError, False, "connection dropped mid-reply"),
    (http.client.IncompleteRead, False, "connection dropped mid-reply"),
    (http.client.HTTPException, False, "the reply is not well-formed HTTP"),
    (OSError, False, "network error"),
)


def describe_failure(exc: BaseException, peer: str = "unit") -> tuple[bool, str]:
    """(timed out?, cause in plain words) for a failed request, from the exception chain's types.

    Only types are used, never the exception text: that carries URLs and, for some errors, request data
    (a proxy's address may carry its password). ``peer`` names who was asked ("unit", "service").
    """
    chain = _chain(exc)
    if isinstance(exc, requests.Timeout):
        chain.insert(0, TimeoutError())
    if isinstance(exc, requests.exceptions.ProxyError):
        return False, _CAUSES[0][2]
    for kind, timed_out, words in _CAUSES:
        if any(isinstance(link, kind) for link in chain):
            return timed_out, words.format(peer=peer)
    return False, f"request failed ({type(exc).__name__})"


def _chain(exc: BaseException) -> list[BaseException]:
    """Every exception reachable through causes, contexts, urllib3 ``reason`` and exception args."""
    found: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(found) < 32:
        link = todo.pop()
        if not isinstance(link, BaseException) or any(link is seen for seen in found):
            continue
        found.append(link)
        todo += [link.__cause__, link.__context__, getattr(link, "reason", None), *link.args]
    return found


# --- a reply that is a JSON object --------------------------------------------------------------------------


class JsonReply:
    """A JSON object reply and the call that produced it; accessors fail naming the field."""

    def __init__(self, method: str, path: str, data: Mapping[str, Any], status: int = 200) -> None:
        self.method, self.path, self.status, self.data = method, path, status, data

    @classmethod
    def decode(cls, method: str, path: str, content: bytes, status: int = 200) -> Self:
        """Parse the raw body as strict JSON (``core.strictjson``: no key twice, no NaN/Infinity, nesting
        bounded); not JSON, not UTF-8 or not an object is a DeviceProtocolError with the reply's status."""
        shell = cls(method, path, {}, status)
        try:
            data = strict_loads(content)
        except JsonRefused as exc:
            raise shell.error(None, exc.problem) from None
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

    def device_text(
        self, name: str, max_len: int = DEVICE_TEXT_MAX, *, empty: bool = True, ascii_only: bool = True
    ) -> str:
        """A string the station shows or records (``hwv``, a hostname, a reader's name), kept as sent:
        printable ASCII of at most ``max_len`` characters, not empty unless ``empty``.

        ``ascii_only=False`` lets through any printable character (no control, format or line-separator
        character): for a label the operator configured and the unit echoes, which may hold "é".
        """
        return self.checked_text(name, self.text(name), max_len, empty=empty, ascii_only=ascii_only)

    def opt_device_text(
        self, name: str, max_len: int = DEVICE_TEXT_MAX, *, empty: bool = True, ascii_only: bool = True
    ) -> str | None:
        value = self.opt_text(name)
        if value is None:
            return None
        return self.checked_text(name, value, max_len, empty=empty, ascii_only=ascii_only)

    def device_texts(
        self, name: str, max_len: int = DEVICE_TEXT_MAX, absent: tuple[str, ...] | None = None
    ) -> tuple[str, ...]:
        """A list of device strings, each checked as ``device_text``; ``absent`` as for ``texts``."""
        values = self.texts(name, absent)
        for index, value in enumerate(values):
            self.checked_text(name, value, max_len, item=index)
        return values

    def checked_text(
        self,
        name: str,
        value: str,
        max_len: int,
        *,
        empty: bool = True,
        ascii_only: bool = True,
        item: int | None = None,
    ) -> str:
        """``value`` (read from field ``name``) if it is printable, at most ``max_len`` characters long.

        The message says what is wrong, never the value: it may be megabytes long, or escape codes.
        """
        where = "" if item is None else f"item {item} "
        if len(value) > max_len:
            raise self.error(name, f"{where}is {len(value)} characters long, more than {max_len}")
        if not empty and not value:
            raise self.error(name, f"{where}is empty")
        if ascii_only and not _PRINTABLE_ASCII.fullmatch(value):
            raise self.error(name, f"{where}holds characters other than printable ASCII")
        if not ascii_only and not value.isprintable():
            raise self.error(name, f"{where}holds control or other unprintable characters")
        return value

    def integer(self, name: str) -> int:
        return int(self._get(name, (int,), "an integer"))

    def opt_integer(self, name: str) -> int | None:
        value = self._get(name, (int,), "an integer", required=False)
        return None if value is None else int(value)

    def number(self, name: str) -> float:
        return float(self._get(name, (int, float), "a number"))

    def flag(self, name: str, absent: bool | None = None) -> bool:
        """A JSON boolean; ``absent`` is its meaning when the reply leaves it out (None: required)."""
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

    def texts(self, name: str, absent: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """A list of strings; ``absent`` is its meaning when left out (None: required)."""
        values = self._get(name, (list,), "a list", required=absent is None)
        if values is None:
            return absent or ()
        for index, item in enumerate(values):
            if not isinstance(item, str):
                raise self.error(name, f"item {index} is {json_kind(item)}, expected a string")
        return tuple(values)
