"""Typed replies of the Companion Service: the DEVICE object, CONFIG-GUID, SUCCESS, register maps.

>>> listed = b'[{"DeviceId": "vkYkoELRDS3p", "Binding": "pnp", "Status": "missing", "Channel": "usb"}]'
>>> parse_devices("GET", "/devices", listed)[0].status           # not "ok": Mode, Name ... may be left out
'missing'
>>> parse_devices("GET", "/devices", listed.replace(b"usb", b"radio"))
Traceback (most recent call last):
station.core.errors.DeviceProtocolError: GET /devices: reply field '[0].Channel' is 'radio', expected ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from station.core.errors import DeviceProtocolError
from station.core.strictjson import JsonRefused, strict_loads
from station.devices.http import DEVICE_TEXT_MAX, JsonReply

BINDINGS = ("pnp", "not-bound", "bound")
STATUSES = ("ok", "error", "missing", "unknown")
CHANNELS = ("usb", "serial", "ble", "network")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"

GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ADDRESS = re.compile(r"[0-9A-Fa-f]{4}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
# Every string of a DEVICE object is printable ASCII of at most ``devices.http.DEVICE_TEXT_MAX`` (128)
# characters, except these, legitimately longer:
LONG_TEXTS = {
    "Characteristics": 1024,  # a comma-separated list of every protocol and feature of the reader
    "SealSubject": 512,  # an X.500 subject (CN=<UniqueId> on today's readers)
    "SealSignature": 1024,  # a base64 signature
}


class Fields(JsonReply):
    """A ``JsonReply`` whose field names carry a prefix (``[2].``) for objects inside a list."""

    def __init__(self, method: str, path: str, data: Mapping[str, Any], prefix: str = "") -> None:
        super().__init__(method, path, data)
        self.prefix = prefix

    def error(self, field: str | None, problem: str) -> DeviceProtocolError:
        named = (self.prefix.rstrip(".") or None) if field is None else f"{self.prefix}{field}"
        return super().error(named, problem)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in allowed:
            raise self.error(name, f"is {value[:32]!r}, expected one of {', '.join(allowed)}")
        return value

    def guid(self, name: str) -> str | None:
        value = self.opt_text(name)
        if value is not None and not GUID.fullmatch(value):
            raise self.error(name, "is not a GUID (8-4-4-4-12 hex digits)")
        return None if value is None else value.upper()


@dataclass(frozen=True)
class Device:
    """The DEVICE object (reference §4.2). Optional fields the service left out are None (or empty)."""

    device_id: str
    binding: str
    status: str
    channel: str
    mode: str | None = None
    friendly_mode: str | None = None
    profile: str | None = None
    name: str | None = None
    friendly_name: str | None = None
    friendly_channel: str | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    pnp_id: str | None = None
    serial_port: str | None = None
    ip_address: str | None = None
    ip_address6: str | None = None
    serial_number: str | None = None
    vendor_name: str | None = None
    product_name: str | None = None
    product_variant: str | None = None
    version: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    characteristics: tuple[str, ...] = ()
    unique_id: str | None = None
    config_id: str | None = None
    seal_subject: str | None = None
    seal_signature: str | None = None
    genuine: bool | None = None
    pcsc_names: tuple[str, ...] = ()
    pcsc_reader_ids: tuple[str, ...] = ()
    hid_instance: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    @property
    def configured(self) -> bool:
        """Whether the reader carries a configuration GUID other than the all-zero one."""
        return self.config_id not in (None, ZERO_GUID)

    @classmethod
    def parse(cls, body: Fields) -> Device:
        device_id = body.text("DeviceId")
        if not DEVICE_ID.fullmatch(device_id):
            raise body.error("DeviceId", "is not 1 to 64 URL-safe characters [A-Za-z0-9_-]")
        status = body.choice("Status", STATUSES)
        ready = status == "ok"
        names, reader_ids = _pcsc(body)
        return cls(
            device_id=device_id,
            binding=body.choice("Binding", BINDINGS),
            status=status,
            channel=body.choice("Channel", CHANNELS),
            mode=body.device_text("Mode") if ready else body.opt_device_text("Mode"),
            friendly_mode=body.device_text("FriendlyMode") if ready else body.opt_device_text("FriendlyMode"),
            profile=body.device_text("Profile") if ready else body.opt_device_text("Profile"),
            name=body.device_text("Name") if ready else body.opt_device_text("Name"),
            **_optional_texts(body),
            vendor_id=body.opt_integer("VendorId"),
            product_id=body.opt_integer("ProductId"),
            characteristics=_characteristics(body),
            unique_id=body.guid("UniqueId"),
            config_id=body.guid("ConfigId"),
            genuine=body.opt_flag("Genuine"),
            pcsc_names=names,
            pcsc_reader_ids=reader_ids,
        )


_TEXTS = {
    "friendly_name": "FriendlyName",
    "friendly_channel": "FriendlyChannel",
    "pnp_id": "PnpId",
    "serial_port": "SerialPort",
    "ip_address": "IpAddress",
    "ip_address6": "IpAddress6",
    "serial_number": "SerialNumber",
    "vendor_name": "VendorName",
    "product_name": "ProductName",
    "product_variant": "ProductVariant",
    "version": "Version",
    "firmware": "Firmware",
    "hardware": "Hardware",
    "seal_subject": "SealSubject",
    "seal_signature": "SealSignature",
    "hid_instance": "HidInstance",
}


def _optional_texts(body: Fields) -> dict[str, str | None]:
    return {attribute: _text(body, name) for attribute, name in _TEXTS.items()}


def _text(body: Fields, name: str) -> str | None:
    return body.opt_device_text(name, LONG_TEXTS.get(name, DEVICE_TEXT_MAX))


def _characteristics(body: Fields) -> tuple[str, ...]:
    text = _text(body, "Characteristics") or ""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _pcsc(body: Fields) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``Pcsc`` {Names[], ReaderIds[]}, when the device has PC/SC readers."""
    if "Pcsc" not in body.data:
        return (), ()
    value = body.data["Pcsc"]
    if not isinstance(value, dict):
        raise body.error("Pcsc", "is not an object")
    inner = Fields(body.method, body.path, value, f"{body.prefix}Pcsc.")
    return inner.device_texts("Names", absent=()), inner.device_texts("ReaderIds", absent=())


def decode(method: str, path: str, content: bytes) -> Any:
    """Any strict JSON value (``core.strictjson``); anything else is a DeviceProtocolError saying why."""
    try:
        return strict_loads(content)
    except JsonRefused as exc:
        raise Fields(method, path, {}).error(None, exc.problem) from None


def parse_devices(method: str, path: str, content: bytes) -> tuple[Device, ...]:
    """``GET /devices``: a JSON array of DEVICE objects."""
    items = decode(method, path, content)
    if not isinstance(items, list):
        raise Fields(method, path, {}).error(None, "is not a JSON array of DEVICE objects")
    devices = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Fields(method, path, {}, f"[{index}]").error(None, "is not a DEVICE object")
        devices.append(Device.parse(Fields(method, path, item, f"[{index}].")))
    return tuple(devices)


def parse_object(method: str, path: str, content: bytes) -> Fields:
    return Fields(method, path, JsonReply.decode(method, path, content).data)


def parse_config_guid(method: str, path: str, content: bytes) -> str:
    """CONFIG-GUID ``{"Result": "success", "ConfigId": GUID}`` → the GUID in uppercase."""
    body = parse_object(method, path, content)
    body.choice("Result", ("success",))
    config_id = body.guid("ConfigId")
    if config_id is None:
        raise body.error("ConfigId", "is missing")
    return config_id


def check_success(method: str, path: str, content: bytes) -> None:
    """A SUCCESS object ``{"Result": "success"}``; an empty body also counts (wink/reset: not captured)."""
    if content.strip():
        parse_object(method, path, content).choice("Result", ("success",))


def parse_registers(method: str, path: str, content: bytes) -> Mapping[int, bytes]:
    """An Address=Value map (4 hex digits → hex) as address → bytes, read-only."""
    body = parse_object(method, path, content)
    registers: dict[int, bytes] = {}
    for key in body.data:
        if not _ADDRESS.fullmatch(key):
            raise body.error(key[:16], "is not a register address (4 hex digits)")
        value = body.text(key)
        if not _HEX.fullmatch(value):
            raise body.error(key, "is not hex")
        registers[int(key, 16)] = bytes.fromhex(value)
    return MappingProxyType(registers)
