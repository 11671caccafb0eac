"""Strict reply parsing: a malformed DEVICE, CONFIG-GUID or register map is an error naming call and field.

Well-formed replies come from the simulator in tests/sim/companion; here the bytes are crafted, because
the simulator never sends a malformed reply (other than its ``garbage`` fault).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from station.core.errors import DeviceProtocolError
from station.devices.springcore.replies import (
    Device,
    check_success,
    parse_config_guid,
    parse_devices,
    parse_object,
    parse_registers,
)

GUID = "a8c74107-e66c-40e4-b2b3-f4d58d82ca63"
MINIMAL = {"DeviceId": "vkYkoELRDS3p9xhQO1lx8a", "Binding": "pnp", "Status": "missing", "Channel": "usb"}
READY = {
    **MINIMAL,
    "Status": "ok",
    "Mode": "pcsc",
    "FriendlyMode": "PC/SC",
    "Profile": "ccid",
    "Name": "Puck",
}


def device(data: dict[str, Any]) -> Device:
    return Device.parse(parse_object("GET", "/device/x", json.dumps(data).encode()))


def fails(call: Any, *args: Any) -> DeviceProtocolError:
    with pytest.raises(DeviceProtocolError) as caught:
        call(*args)
    return caught.value


def test_a_minimal_device_not_ready() -> None:
    parsed = device(MINIMAL)
    assert (parsed.device_id, parsed.status, parsed.ready, parsed.mode) == (
        MINIMAL["DeviceId"],
        "missing",
        False,
        None,
    )
    assert parsed.configured is False


def test_a_full_device() -> None:
    parsed = device(
        {
            **READY,
            "ConfigId": GUID,
            "UniqueId": GUID,
            "Characteristics": "nfc, led-rgb,,buzzer",
            "Pcsc": {"Names": ["Puck 0"], "ReaderIds": ["abc"]},
            "VendorId": 7220,
            "Genuine": True,
            "Extra": {"ignored": True},
        }
    )
    assert parsed.ready and parsed.configured
    assert parsed.config_id == GUID.upper()
    assert parsed.characteristics == ("nfc", "led-rgb", "buzzer")
    assert parsed.pcsc_names == ("Puck 0",)
    assert parsed.vendor_id == 7220


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in MINIMAL.items() if k != "DeviceId"}, "DeviceId"),
        ({**MINIMAL, "DeviceId": "../../etc"}, "DeviceId"),
        ({**MINIMAL, "Status": "sleeping"}, "Status"),
        ({**MINIMAL, "Binding": 1}, "Binding"),
        ({**MINIMAL, "Channel": "carrier-pigeon"}, "Channel"),
        ({k: v for k, v in READY.items() if k != "Mode"}, "Mode"),  # required when Status is ok
        ({**READY, "ConfigId": "not-a-guid"}, "ConfigId"),
        ({**READY, "VendorId": "1C34"}, "VendorId"),
        ({**READY, "Genuine": "yes"}, "Genuine"),
        ({**READY, "Pcsc": []}, "Pcsc"),
        ({**READY, "Pcsc": {"Names": [1]}}, "Pcsc.Names"),
    ],
)
def test_malformed_device_fields_are_named(data: dict[str, Any], field: str) -> None:
    error = fails(device, data)
    assert error.field == field
    assert error.endpoint == "/device/x"
    assert f"GET /device/x: reply field '{field}'" in str(error)


def test_device_lists_name_the_item() -> None:
    content = json.dumps([READY, {**READY, "Status": None}]).encode()
    error = fails(parse_devices, "GET", "/devices", content)
    assert error.field == "[1].Status"
    assert fails(parse_devices, "GET", "/devices", b"[1]").field == "[0]"
    assert "not a JSON array" in str(fails(parse_devices, "GET", "/devices", b"{}"))
    assert "not JSON" in str(fails(parse_devices, "GET", "/devices", b"<html>"))
    assert len(parse_devices("GET", "/devices", json.dumps([READY, MINIMAL]).encode())) == 2


def test_config_guid() -> None:
    ok = json.dumps({"Result": "success", "ConfigId": GUID}).encode()
    assert parse_config_guid("PUT", "/p", ok) == GUID.upper()
    assert fails(parse_config_guid, "PUT", "/p", b'{"Result": "success"}').field == "ConfigId"
    assert fails(parse_config_guid, "PUT", "/p", b'{"Result": "error", "ConfigId": "x"}').field == "Result"


def test_success_object_or_empty() -> None:
    check_success("POST", "/p", b'{"Result":"success"}')
    check_success("POST", "/p", b"")
    assert fails(check_success, "POST", "/p", b'{"Result":"error"}').field == "Result"
    assert fails(check_success, "POST", "/p", b"ok").field is None


def test_register_maps() -> None:
    assert parse_registers("GET", "/p", b'{"0201": "4142", "020a": ""}') == {0x0201: b"AB", 0x020A: b""}
    assert fails(parse_registers, "GET", "/p", b'{"201": "41"}').field == "201"
    assert fails(parse_registers, "GET", "/p", b'{"0201": "4"}').field == "0201"
    assert fails(parse_registers, "GET", "/p", b'{"0201": 4}').field == "0201"
