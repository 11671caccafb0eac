"""Parse and validate a Companion configuration body: the flat Address=Value map or a CONFIG-DATA object.

>>> config = parse_config({"config": {"01.s": "Bench 3", "C0.i": 0, "FE.s": "s3cret"}})   # FE: user password
>>> config.public_json()             # for logs and records; canonical_json() and sha256() hold the secret
b'{"config":{"0201":"42656E63682033","02C0":"00","02FE":"<secret>"}}'
>>> parse_config({"config": {"30.i": 513}})          # the simulator refuses this body with 422
Traceback (most recent call last):
station.core.errors.ConfigDataError: register 0230 (key "config/30.i") breaks the size rule: ...
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import rfc8785

from station.core.errors import ConfigDataError
from station.core.strictjson import JsonRefused, json_kind, strict_loads
from station.devices.springcore.registers import DEVICE_SPECIFIC, SECRET, label, register
from station.devices.springcore.values import ValueRejected, split_key, to_bytes

BANKS = {"config": 0x02, "templates": 0x03}
IGNORED_SECTIONS = ("commands", "constants", "security")
SECURE_SECTIONS = ("samav", "samav-rsa", "samav-ecc", "ataes", "atecc", "certificates")
SECTIONS = (*BANKS, *IGNORED_SECTIONS, *SECURE_SECTIONS)
# Stands for a secret value in public_json; not hex, so it can never be written by mistake.
SECRET_MARK = "<secret>"  # noqa: S105 - a placeholder, not a password

RULES = {
    "json": "the body is not UTF-8 JSON (empty, not UTF-8, not JSON): HTTP 400",
    "form": "the body is not an object, or mixes sections with register keys",
    "section": "a section is not an object, or is not allowed here",
    "address": "a key is not a register address of this form or section",
    "unknown-register": "a 02xx address that is not in the register table",
    "modifier": "an unknown format modifier",
    "value": "a value of the wrong JSON type, or text that does not decode",
    "size": "a value whose length the register does not take",
    "duplicate": "the same register (or key) given twice",
    "not-specific": "a register that is not device-specific, in a device-specific write",
}

Scope = Literal["config", "specific"]
_HEX2 = re.compile(r"[0-9a-fA-F]{2}")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


@dataclass(frozen=True, repr=False)
class ConfigData:
    """A validated body. ``registers``: address → bytes (b"" = blank, back to default); ``secure``:
    secure-element section → entry → bytes; ``ignored``: the ignored sections the body carried."""

    registers: Mapping[int, bytes]
    secure: Mapping[str, Mapping[int, bytes]] = field(default_factory=lambda: MappingProxyType({}))
    ignored: frozenset[str] = frozenset()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Names of the secret items present (register labels, secure section names), for messages."""
        found = [label(a) for a in sorted(self.registers) if a in SECRET and self.registers[a]]
        return (*found, *sorted(self.secure))

    def body(self, *, public: bool = False) -> dict[str, dict[str, str]]:
        """The canonical CONFIG-DATA object: 4-digit keys in ``config``/``templates``, uppercase hex.

        ``public`` replaces every secret (non-blank) value by ``SECRET_MARK``.
        """
        rendered: dict[str, dict[str, str]] = {}
        for address in sorted(self.registers):
            section = "config" if address >> 8 == BANKS["config"] else "templates"
            secret = public and address in SECRET and self.registers[address]
            value = SECRET_MARK if secret else self.registers[address].hex().upper()
            rendered.setdefault(section, {})[label(address)] = value
        for name in sorted(self.secure):
            entries = self.secure[name]
            rendered[name] = {
                f"{entry:02X}": SECRET_MARK if public else entries[entry].hex().upper()
                for entry in sorted(entries)
            }
        return rendered

    def canonical_json(self) -> bytes:
        """RFC 8785 bytes of ``body()``: exactly what will be written, secrets included."""
        return rfc8785.dumps(self.body())

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()

    def public_json(self) -> bytes:
        """RFC 8785 bytes of ``body(public=True)``: safe for logs and records."""
        return rfc8785.dumps(self.body(public=True))

    def public_sha256(self) -> str:
        """Digest of ``public_json``: identifies the public part; blind to the secret values."""
        return hashlib.sha256(self.public_json()).hexdigest()

    def __repr__(self) -> str:
        names = ", ".join(label(address) for address in sorted(self.registers))
        secure, ignored = sorted(self.secure), sorted(self.ignored)
        return f"ConfigData(registers=[{names}], secure={secure}, ignored={ignored})"


def parse_config(body: Any) -> ConfigData:
    """Validate a ``PUT /device/{id}/config`` body (Configuration and Templates banks, secure sections)."""
    return _parse(body, "config")


def parse_specific(body: Any) -> ConfigData:
    """Validate a ``PUT /device/{id}/config/specific`` body: device-specific registers only."""
    return _parse(body, "specific")


def load_body(raw: bytes) -> Any:
    """Strict JSON (``core.strictjson``): UTF-8, not empty, no duplicate keys, no NaN/Infinity, nesting
    bounded; rule ``json`` or ``duplicate``."""
    if not raw.strip():
        raise ConfigDataError("body breaks the json rule: it is empty", rule="json")
    try:
        return strict_loads(raw)
    except JsonRefused as exc:
        if exc.kind == "duplicate":
            raise _error("duplicate", "the key appears twice in one object", key=exc.key) from None
        if exc.kind == "utf-8":
            raise ConfigDataError("body breaks the json rule: it is not UTF-8", rule="json") from None
        if exc.kind == "depth":
            raise ConfigDataError(f"body breaks the json rule: it {exc.problem}", rule="json") from None
        raise ConfigDataError("body breaks the json rule: it is not JSON", rule="json") from None


def _parse(body: Any, scope: Scope) -> ConfigData:
    if not isinstance(body, dict):
        raise _error("form", f"the body must be a JSON object, not {json_kind(body)}")
    if any(key in SECTIONS for key in body):
        return _parse_sections(body, scope)
    collected = _Registers(scope)
    for key, value in body.items():
        collected.add(_flat_address(key), key, value, key)
    return ConfigData(collected.frozen())


def _parse_sections(body: dict[str, Any], scope: Scope) -> ConfigData:
    collected = _Registers(scope)
    secure: dict[str, Mapping[int, bytes]] = {}
    ignored: set[str] = set()
    for name, content in body.items():
        if name not in SECTIONS:
            detail = f"the body has sections, so every top-level key must be one ({', '.join(SECTIONS)})"
            raise _error("form", detail, key=name)
        if not isinstance(content, dict):
            raise _error("section", f"section {name!r} must be an object, not {json_kind(content)}", key=name)
        if name in IGNORED_SECTIONS:
            ignored.add(name)
        elif name in SECURE_SECTIONS:
            secure[name] = _secure_section(name, content, scope)
        else:
            for key, value in content.items():
                collected.add(_section_address(name, key), key, value, f"{name}/{key}")
    return ConfigData(collected.frozen(), MappingProxyType(secure), frozenset(ignored))


class _Registers:
    """Registers collected from a body: checked one by one, each address at most once."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.values: dict[int, bytes] = {}
        self.keys: dict[int, str] = {}

    def add(self, address: int, key: str, value: Any, where: str) -> None:
        spec = register(address)
        if spec is None:
            raise _error("unknown-register", "not a register of the table", register=address, key=where)
        if self.scope == "specific" and address not in DEVICE_SPECIFIC:
            detail = "only device-specific registers (0200-020F, 0280, 0281, 02FE, 02FF) may be written here"
            raise _error("not-specific", detail, register=address, key=where)
        if address in self.keys:
            detail = f"given twice (also as {self.keys[address]!r})"
            raise _error("duplicate", detail, register=address, key=where)
        try:
            data = to_bytes(split_key(key)[1], value, sizes=spec.sizes)
        except ValueRejected as exc:
            raise _error(exc.rule, exc.detail, register=address, key=where) from None
        if not spec.accepts(len(data)):
            detail = f"{len(data)} bytes given; it takes {spec.describe_size()}"
            raise _error("size", detail, register=address, key=where)
        self.values[address], self.keys[address] = data, where

    def frozen(self) -> Mapping[int, bytes]:
        return MappingProxyType(dict(self.values))


def _secure_section(name: str, content: dict[str, Any], scope: Scope) -> Mapping[int, bytes]:
    """Entry number (2 hex digits) → bytes; refused outright in a device-specific write."""
    if scope == "specific":
        raise _error("section", f"secure-element section {name!r} cannot be written here", key=name)
    entries: dict[int, bytes] = {}
    for key, value in content.items():
        where = f"{name}/{key}"
        entry_text = key.partition(".")[0]
        if not _HEX2.fullmatch(entry_text):
            detail = "a secure-element entry key is 2 hex digits (+ optional .modifier)"
            raise _error("address", detail, key=where)
        entry = int(entry_text, 16)
        if entry in entries:
            raise _error("duplicate", "the entry is given twice", key=where)
        try:
            entries[entry] = to_bytes(split_key(key)[1], value)
        except ValueRejected as exc:
            raise _error(exc.rule, exc.detail, key=where) from None
    return MappingProxyType(entries)


def _flat_address(key: str) -> int:
    text = key.partition(".")[0]
    if not _HEX4.fullmatch(text):
        detail = "a flat body's keys are 4 hex digits (+ optional .modifier), or use CONFIG-DATA sections"
        raise _error("address", detail, key=key)
    address = int(text, 16)
    if address >> 8 not in BANKS.values():
        detail = "outside the Configuration and Templates banks (0200-03FF)"
        raise _error("address", detail, register=address, key=key)
    return address


def _section_address(section: str, key: str) -> int:
    bank = BANKS[section]
    text = key.partition(".")[0]
    if _HEX2.fullmatch(text):
        return bank << 8 | int(text, 16)
    if _HEX4.fullmatch(text):
        address = int(text, 16)
        if address >> 8 != bank:
            detail = f"section {section!r} holds {bank:02X}xx registers only"
            raise _error("address", detail, register=address, key=f"{section}/{key}")
        return address
    detail = "a section key is 2 hex digits (or 4 with the section's bank), + optional .modifier"
    raise _error("address", detail, key=f"{section}/{key}")


def _error(rule: str, detail: str, *, register: int | None = None, key: str | None = None) -> ConfigDataError:
    """``register 0201 (key "config/01.s") breaks the size rule: ...``; else ``key ...`` or ``body ...``."""
    shown_key = None if key is None else json.dumps(key[:40])
    if register is not None:
        subject = f"register {label(register)}" + (f" (key {shown_key})" if shown_key else "")
    else:
        subject = "body" if shown_key is None else f"key {shown_key}"
    message = f"{subject} breaks the {rule} rule: {detail}"
    return ConfigDataError(message, rule=rule, register=register, key=key)
