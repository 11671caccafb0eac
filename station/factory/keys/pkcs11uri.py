"""RFC 7512 PKCS#11 URIs as ``station.toml`` names keys in a token: parse, check, print.

>>> uri = parse_pkcs11_uri("pkcs11:token=factory;object=factory-ca")
>>> uri.token, uri.object, uri.slug                # slug: a file-name-safe name for files kept beside it
('factory', 'factory-ca', 'factory.factory-ca')
>>> parse_pkcs11_uri("pkcs11:token=factory;object=factory-ca?pin-value=1234", setting="keys.ca")
Traceback (most recent call last):
station.core.errors.ConfigError: [keys.ca] ...: pin-value: the PIN never lives in station.toml: use ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_to_bytes

from station.core.errors import ConfigError

SCHEME = "pkcs11:"
TOKEN_ATTRIBUTES = ("token", "serial", "manufacturer", "model")
OBJECT_ATTRIBUTES = ("object", "id", "type")
OBJECT_TYPES = ("private", "public")
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_QUERY_ADVICE = {
    "pin-value": "the PIN never lives in station.toml: use [keys] pin_file or pin_env",
    "pin-source": "the PIN comes from [keys] pin_file or pin_env, not from the URI",
    "module-path": "the PKCS#11 module is [keys] pkcs11_module, not part of the URI",
    "module-name": "the PKCS#11 module is [keys] pkcs11_module, not part of the URI",
}


@dataclass(frozen=True)
class Pkcs11Uri:
    """A key pair in a token: the token's label (and optional narrowing) and the pair's label/id."""

    token: str
    object: str
    id: bytes | None = None
    serial: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    type: str | None = None

    def __str__(self) -> str:
        parts: list[tuple[str, str | None]] = [("token", self.token)]
        parts += [(name, getattr(self, name)) for name in ("serial", "manufacturer", "model")]
        parts += [("object", self.object), ("type", self.type)]
        text = ";".join(f"{name}={quote(value, safe='')}" for name, value in parts if value is not None)
        if self.id is not None:
            text += ";id=" + "".join(f"%{byte:02x}" for byte in self.id)
        return SCHEME + text

    @property
    def slug(self) -> str:
        """``<token>.<object>`` with anything but letters, digits, ``-`` and ``_`` replaced by ``_``."""
        return ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in (self.token, self.object))


def is_pkcs11_uri(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_pkcs11_uri(text: str, *, setting: str = "keys") -> Pkcs11Uri:
    """Parse ``text`` (RFC 7512); ConfigError naming ``setting`` and the attribute at fault."""

    def fail(message: str) -> ConfigError:
        return ConfigError(f"PKCS#11 URI {_safe(text)}: {message}", key=setting)

    if not is_pkcs11_uri(text):
        raise fail("must start with pkcs11:")
    path, _, query = text.removeprefix(SCHEME).partition("?")
    for name, _value in _pairs(query, "&", fail):
        advice = _QUERY_ADVICE.get(name, "query attributes are not used by the station")
        raise fail(f"{name}: {advice}")
    values: dict[str, str] = {}
    for name, value in _pairs(path, ";", fail):
        if name not in TOKEN_ATTRIBUTES + OBJECT_ATTRIBUTES:
            allowed = ", ".join(TOKEN_ATTRIBUTES + OBJECT_ATTRIBUTES)
            raise fail(f"unknown attribute {name!r}; allowed: {allowed}")
        if name in values:
            raise fail(f"attribute {name!r} appears twice")
        values[name] = value
    for required in ("token", "object"):
        if not values.get(required):
            raise fail(f"needs {required}=<label>")
    if values.get("type") not in (None, *OBJECT_TYPES):
        raise fail(f"type must be {' or '.join(OBJECT_TYPES)} (both name the key pair)")
    decoded = {name: unquote(value, errors="strict") for name, value in values.items() if name != "id"}
    try:
        return Pkcs11Uri(
            token=decoded["token"],
            object=decoded["object"],
            id=unquote_to_bytes(values["id"]) if "id" in values else None,
            serial=decoded.get("serial"),
            manufacturer=decoded.get("manufacturer"),
            model=decoded.get("model"),
            type=decoded.get("type"),
        )
    except UnicodeDecodeError:
        raise fail("a percent-encoded value is not UTF-8") from None


def _pairs(text: str, separator: str, fail: Callable[[str], ConfigError]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in filter(None, text.split(separator)):
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise fail(f"{_safe(item)!r} is not name=value")
        if _PCT.search(value):
            raise fail(f"{name}: '%' must start a percent-encoded byte (%XX)")
        pairs.append((name, value))
    return pairs


def _safe(text: str) -> str:
    """The URI for an error message, without any query part (which might hold a PIN)."""
    return text.partition("?")[0]
