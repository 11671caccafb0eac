"""Device strings are checked where replies are parsed: printable ASCII, bounded, else ``bad-reply``.

``hwv``, ``fwv``, ``blv``, hostnames, reader names: a unit that sends escape codes, a forged line or
20 MB in one of them fails naming the field, and the value reaches no console, log or record. Error
texts from a unit or the Companion Service are shown only cleaned (they are already a failure).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from station.core.errors import DeviceProtocolError
from station.devices.http import DEVICE_TEXT_MAX, JsonReply
from station.devices.ppa.failures import status_error
from station.devices.ppa.replies import HOSTNAME_MAX, Status, TokenChallenge, Version
from station.devices.ppa.wire import ReplyBody
from station.devices.springcore.failures import MESSAGE_LIMIT, _clean, reader_error
from station.devices.springcore.replies import LONG_TEXTS, parse_devices
from station.devices.transport import Reply
from station.pipeline.engine import _code_of

B64_32 = "A" * 43 + "="
B64_64 = "A" * 86 + "=="
VERSION = {"hwv": "PPA rev 2.2", "fwv": "Encedo nGINE FW v1.2.2", "fwk": B64_32, "fws": B64_64}
STATUS = {"ctx": 0, "uptime": 5, "temp": 31.5, "fls_state": 0}


def reply(fields: dict[str, Any], path: str = "/api/system/version") -> ReplyBody:
    return ReplyBody.decode("GET", path, json.dumps(fields).encode(), 200)


def bad(parse: Any, body: ReplyBody) -> DeviceProtocolError:
    with pytest.raises(DeviceProtocolError) as caught:
        parse(body)
    assert caught.value.status == 200 and _code_of(caught.value) == "bad-reply"
    return caught.value


# --- the accessor -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["a\x1bb", "line\nbreak", "cr\r", "nul\x00", "tab\t", "del\x7f", "é", "\u202e", "\x9b"]
)
def test_device_text_refuses_control_and_non_ascii_characters(value: str) -> None:
    body = JsonReply.decode("GET", "/x", json.dumps({"name": value}).encode())
    with pytest.raises(DeviceProtocolError) as caught:
        body.device_text("name")
    assert caught.value.field == "name"
    assert str(caught.value) == "GET /x: reply field 'name' holds characters other than printable ASCII"


def test_device_text_bounds_the_length_and_names_it_without_the_value() -> None:
    body = JsonReply.decode("GET", "/x", json.dumps({"ok": "x" * 128, "long": "y" * 129}).encode())
    assert body.device_text("ok") == "x" * DEVICE_TEXT_MAX
    with pytest.raises(DeviceProtocolError) as caught:
        body.device_text("long")
    assert str(caught.value) == "GET /x: reply field 'long' is 129 characters long, more than 128"
    assert body.device_text("long", 200) == "y" * 129  # a field with its own bound


def test_empty_is_allowed_unless_the_field_says_not() -> None:
    body = JsonReply.decode("GET", "/x", b'{"e": ""}')
    assert body.device_text("e") == ""
    with pytest.raises(DeviceProtocolError, match="'e' is empty"):
        body.device_text("e", empty=False)
    assert body.opt_device_text("absent") is None


def test_a_configured_label_may_be_non_ascii_but_never_unprintable() -> None:
    body = JsonReply.decode("GET", "/x", json.dumps({"ok": "Zoë — line 2", "bad": "a\u2028b"}).encode())
    assert body.device_text("ok", ascii_only=False) == "Zoë — line 2"
    with pytest.raises(DeviceProtocolError, match="unprintable"):
        body.device_text("bad", ascii_only=False)


def test_a_list_of_device_strings_names_the_bad_item() -> None:
    body = JsonReply.decode("GET", "/x", json.dumps({"items": ["ok", "bad\x1b"]}).encode())
    with pytest.raises(DeviceProtocolError, match="'items' item 1 holds characters other than printable"):
        body.device_texts("items")


# --- the PPA's replies --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["hwv", "fwv", "blv"])
def test_a_forged_version_string_fails_naming_its_field(field: str) -> None:
    forged = "PPA rev 2.2\x1b[31m\n  N1  PASS  fakefakefake  record spoofed"
    error = bad(Version.parse, reply({**VERSION, field: forged}))
    assert error.field == field and "fakefake" not in str(error)


def test_a_20_mb_hwv_fails_fast_without_its_value_in_the_message() -> None:
    started = time.monotonic()
    error = bad(Version.parse, reply({**VERSION, "hwv": "x" * 20_000_000}))
    assert (
        str(error) == "GET /api/system/version: reply field 'hwv' is 20000000 characters long, more than 128"
    )
    assert time.monotonic() - started < 5


def test_an_empty_hwv_is_a_bad_reply() -> None:
    assert bad(Version.parse, reply({**VERSION, "hwv": ""})).field == "hwv"


def test_a_good_version_still_parses() -> None:
    version = Version.parse(reply({**VERSION, "blv": "Encedo Secure Bootloader v2.0.1"}))
    assert (version.hwv, version.blv) == ("PPA rev 2.2", "Encedo Secure Bootloader v2.0.1")


def test_status_strings_are_checked() -> None:
    path = "/api/system/status"
    assert Status.parse(reply({**STATUS, "hostname": "h" * HOSTNAME_MAX}, path)).hostname == "h" * 253
    assert bad(Status.parse, reply({**STATUS, "hostname": "h" * 254}, path)).field == "hostname"
    assert bad(Status.parse, reply({**STATUS, "storage": ["1:rw", "2:\x1b"]}, path)).field == "storage"
    assert bad(Status.parse, reply({**STATUS, "format": "status5\r"}, path)).field == "format"


def test_the_user_label_may_be_what_the_operator_configured() -> None:
    challenge = {"exp": 60, "spk": B64_32, "jti": B64_32, "eid": B64_32}
    path = "/api/auth/token"
    assert TokenChallenge.parse(reply({**challenge, "lbl": "Zoë"}, path)).lbl == "Zoë"
    assert bad(TokenChallenge.parse, reply({**challenge, "lbl": "a\nb"}, path)).field == "lbl"


# --- the Companion Service's replies -------------------------------------------------------------------


def device(**fields: Any) -> dict[str, Any]:
    base = {"DeviceId": "vkYkoELRDS3p9xhQO1lx8a", "Binding": "pnp", "Status": "ok", "Channel": "usb"}
    return {**base, "Mode": "pcsc", "FriendlyMode": "PC/SC", "Profile": "p", "Name": "Puck", **fields}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"FriendlyName": "Puck\x1b[2J"}, "[0].FriendlyName"),
        ({"Name": "n" * 129}, "[0].Name"),
        ({"SerialNumber": "12\n34"}, "[0].SerialNumber"),
        ({"Pcsc": {"Names": ["ok", "bad\x00"]}}, "[0].Pcsc.Names"),
        ({"Characteristics": "c" * 1025}, "[0].Characteristics"),
    ],
)
def test_a_reader_string_fails_naming_its_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(DeviceProtocolError) as caught:
        parse_devices("GET", "/devices", json.dumps([device(**fields)]).encode())
    assert caught.value.field == named and caught.value.status == 200


def test_longer_reader_fields_have_their_own_bounds() -> None:
    long = {name: "A" * limit for name, limit in LONG_TEXTS.items()}
    (parsed,) = parse_devices("GET", "/devices", json.dumps([device(**long)]).encode())
    assert parsed.seal_signature == "A" * LONG_TEXTS["SealSignature"]


# --- error texts from a unit or the service -----------------------------------------------------------


def response(status: int, body: bytes) -> Reply:
    return Reply(status, {}, body)


def test_a_unit_error_body_is_shown_only_when_printable_ascii() -> None:
    assert "'atecc_2'" in str(status_error("GET", "/a", response(500, b"atecc_2"), (200,)))
    assert str(status_error("GET", "/a", response(500, b"x\x1b[31m\nPASS"), (200,))).endswith(")")
    assert "'" + "y" * 40 + "'..." in str(status_error("GET", "/a", response(500, b"y" * 5000), (200,)))


def test_a_service_message_is_cleaned_and_bounded() -> None:
    assert _clean("bad\x1b[31m\nregister") == "bad?[31m?register"
    assert _clean("x" * 5000) == "x" * MESSAGE_LIMIT
    body = json.dumps({"Result": "error", "Message": "no\x1b device\u202e"}).encode()
    error = reader_error("GET", "/device/x", response(410, body))
    assert error.service_message == "no? device?" and "\x1b" not in str(error)
