"""Body validation: both forms, every modifier, sizes, sections, duplicates, scopes, and the error texts."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from station.core.errors import ConfigDataError
from station.devices.springcore.configdata import (
    RULES,
    SECRET_MARK,
    ConfigData,
    load_body,
    parse_config,
    parse_specific,
)

DEMO = "Demo bench, R&D Lab"
DEMO_HEX = "44656D6F2062656E63682C20522644204C6162"  # the seed page's example value


def refused(body: Any, rule: str, register: str | None = None, *, specific: bool = False) -> ConfigDataError:
    """Parse ``body``, expect ConfigDataError with ``rule``, and a message naming register and rule."""
    with pytest.raises(ConfigDataError) as caught:
        (parse_specific if specific else parse_config)(body)
    error = caught.value
    assert error.rule == rule, str(error)
    assert rule in RULES
    assert f"the {rule} rule" in str(error)
    if register is not None:
        assert error.register == int(register, 16)
        assert f"register {register}" in str(error)
    return error


# --- forms ------------------------------------------------------------------------------------------------


def test_flat_form_the_seed_example() -> None:
    config = parse_config({"0201": DEMO_HEX, "0202": ""})
    assert config.registers == {0x0201: DEMO.encode(), 0x0202: b""}
    assert config.secure == {}
    assert config.ignored == frozenset()


def test_config_data_form_with_two_and_four_digit_keys() -> None:
    config = parse_config(
        {"config": {"01": DEMO_HEX, "0202.s": "Lab"}, "templates": {"10": "0A", "0311": ""}}
    )
    assert config.registers == {0x0201: DEMO.encode(), 0x0202: b"Lab", 0x0310: b"\x0a", 0x0311: b""}


def test_both_forms_mean_the_same_and_render_the_same() -> None:
    flat = parse_config({"0201.s": DEMO, "02c0.i": 3, "0310": "aa"})
    sections = parse_config({"config": {"01": DEMO_HEX, "C0": "03"}, "templates": {"0310": "AA"}})
    assert flat == sections
    assert flat.canonical_json() == sections.canonical_json()
    assert flat.sha256() == hashlib.sha256(flat.canonical_json()).hexdigest()


def test_canonical_body_is_a_valid_body_with_uppercase_hex() -> None:
    config = parse_config({"020a": "ab", "0310": ""})
    assert config.body() == {"config": {"020A": "AB"}, "templates": {"0310": ""}}
    assert json.loads(config.canonical_json()) == config.body()
    assert parse_config(config.body()) == config


def test_empty_bodies_are_valid() -> None:
    assert parse_config({}).registers == {}
    assert parse_config({"config": {}}).registers == {}
    assert parse_specific({}).registers == {}


def test_mixing_sections_and_register_keys_is_refused() -> None:
    error = refused({"config": {}, "0201": ""}, "form")
    assert '"0201"' in str(error)


@pytest.mark.parametrize("body", [[], "0201", 5, None])
def test_the_body_must_be_an_object(body: Any) -> None:
    refused(body, "form")


def test_a_section_must_be_an_object() -> None:
    refused({"config": []}, "section")
    refused({"commands": "x"}, "section")  # ignored sections still must be objects (§11.6)


def test_ignored_sections_are_recorded_not_written() -> None:
    config = parse_config({"commands": {"x": 1}, "constants": {}, "security": {}, "config": {"01": ""}})
    assert config.ignored == {"commands", "constants", "security"}
    assert config.registers == {0x0201: b""}
    assert "commands" not in config.body()


# --- keys and addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "register"),
    [
        ({"0100": ""}, "0100"),  # Constants bank
        ({"0400": ""}, "0400"),  # Statistics bank
        ({"config": {"0301": ""}}, "0301"),  # high byte does not match the section
        ({"templates": {"0201": ""}}, "0201"),
    ],
)
def test_addresses_outside_the_banks_or_section_are_refused(body: Any, register: str) -> None:
    refused(body, "address", register)


@pytest.mark.parametrize(
    "body", [{"201": ""}, {"02011": ""}, {"xyz": ""}, {"config": {"1": ""}}, {"config": {"g1": ""}}]
)
def test_malformed_keys_are_refused_naming_the_key(body: Any) -> None:
    error = refused(body, "address")
    assert error.register is None
    assert "key" in str(error)


def test_flat_keys_are_four_digits() -> None:
    refused({"01": ""}, "address")


def test_unknown_register_is_refused() -> None:
    refused({"0222": ""}, "unknown-register", "0222")
    refused({"config": {"22.s": ""}}, "unknown-register", "0222")


# --- modifiers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("0201", DEMO_HEX.lower(), DEMO.encode()),  # hex is case-insensitive
        ("0201.16", "0a", b"\x0a"),
        ("0201.h", "0A", b"\x0a"),
        ("0201.hex", "", b""),
        ("0201.s", "Bench é", "Bench é".encode()),
        ("0201.string", "", b""),
        ("0201.64", base64.b64encode(b"\x00\xffab").decode(), b"\x00\xffab"),
        ("0201.base64", "AP9hYg", b"\x00\xffab"),  # padding optional
        ("0201.i", 0, b"\x00"),  # variable length: the fewest bytes, at least one
        ("0201.integer", 513, b"\x02\x01"),
        ("0231.i", 1, b"\x00\x01"),  # fixed size: big-endian in the register's size
        ("023E.i", 1, b"\x00\x00\x01"),  # two sizes: the smaller one that holds it
        ("023E.i", 0x01000000, b"\x01\x00\x00\x00"),
        ("0230.b", True, b"\x01"),
        ("0230.bool", False, b"\x00"),
        ("0230.boolean", True, b"\x01"),
        ("0230.B", True, b"\x01"),  # modifiers are case-insensitive
        ("0201.STRING", "x", b"x"),
    ],
)
def test_every_modifier(key: str, value: Any, expected: bytes) -> None:
    assert parse_config({key: value}).registers[int(key[:4], 16)] == expected


def test_modifiers_work_in_sections_too() -> None:
    config = parse_config({"config": {"01.s": "x", "30.b": True, "31.i": 2}, "templates": {"10.64": "qg=="}})
    assert config.registers == {0x0201: b"x", 0x0230: b"\x01", 0x0231: b"\x00\x02", 0x0310: b"\xaa"}


def test_unknown_modifier() -> None:
    error = refused({"0201.x": ""}, "modifier", "0201")
    assert ".string" in str(error)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("0201", 12),  # a non-string without a modifier (§11.5)
        ("0201", None),
        ("0201", True),
        ("0201", "abc"),  # odd number of hex digits
        ("0201", "zz"),
        ("0201.s", 5),
        ("0201.s", "\ud800"),  # no UTF-8 form
        ("0201.64", "not base64!"),
        ("0201.64", 5),
        ("0201.i", -1),
        ("0201.i", 1.5),
        ("0201.i", "1"),
        ("0201.i", True),
        ("0230.b", 1),
        ("0230.b", "true"),
    ],
)
def test_values_of_the_wrong_type_or_encoding(key: str, value: Any) -> None:
    refused({key: value}, "value", key[:4])


# --- sizes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "register"),
    [
        ({"0200": "00" * 15}, "0200"),  # GUID: 16 bytes exactly
        ({"0201.s": "x" * 33}, "0201"),  # variable length, too long
        ({"0230": "0102"}, "0230"),  # fixed size, too long
        ({"0280": "00" * 16}, "0280"),  # fixed size, too short
        ({"023E": "0102"}, "023E"),  # neither of two sizes
        ({"0231.i": 70000}, "0231"),  # an integer that does not fit
        ({"0231.b": True}, "0231"),  # a boolean is one byte; 0231 takes 2
        ({"0205.64": base64.b64encode(bytes(65)).decode()}, "0205"),
        ({"templates": {"20": "00" * 65}}, "0320"),
    ],
)
def test_size_errors_per_register_class(body: Any, register: str) -> None:
    refused(body, "size", register)


def test_blank_is_always_accepted() -> None:
    config = parse_config({"0200": "", "0230": "", "0280.s": "", "02FE.64": ""})
    assert set(config.registers.values()) == {b""}


def test_size_message_names_sizes_not_values() -> None:
    error = refused({"0201.s": "p" * 40}, "size", "0201")
    assert "40 bytes given" in str(error)
    assert "0 to 32 bytes" in str(error)
    assert "ppp" not in str(error)


# --- duplicates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "register"),
    [
        ({"0201": "", "0201.s": ""}, "0201"),
        ({"020a": "", "020A": ""}, "020A"),
        ({"config": {"01": "", "0201": ""}}, "0201"),
        ({"config": {"01": "", "01.s": ""}}, "0201"),
    ],
)
def test_the_same_register_twice(body: Any, register: str) -> None:
    refused(body, "duplicate", register)


def test_duplicate_json_keys_are_caught_when_loading() -> None:
    with pytest.raises(ConfigDataError) as caught:
        load_body(b'{"config": {"01": "", "01": "AA"}}')
    assert caught.value.rule == "duplicate"
    assert '"01"' in str(caught.value)


def test_duplicate_secure_entries() -> None:
    refused({"atecc": {"01": "", "01.h": ""}}, "duplicate")


# --- strict JSON ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"\xff\xfe{}", b'{"0201": NaN}', b"{'a': 1}"])
def test_load_body_refuses_what_is_not_utf8_json(raw: bytes) -> None:
    with pytest.raises(ConfigDataError) as caught:
        load_body(raw)
    assert caught.value.rule == "json"


def test_load_body_returns_any_json() -> None:
    assert load_body(b'{"0201": "AA"}') == {"0201": "AA"}
    assert load_body(b"[1]") == [1]  # not an object: the parse step says so (422, not 400)


# --- secure-element sections and the device-specific scope ------------------------------------------------


def test_secure_sections_are_kept_as_entries() -> None:
    config = parse_config({"atecc": {"00": "AABB", "01.64": "qg"}, "certificates": {"02.s": "PEM"}})
    assert config.secure == {"atecc": {0: b"\xaa\xbb", 1: b"\xaa"}, "certificates": {2: b"PEM"}}
    assert config.body()["atecc"] == {"00": "AABB", "01": "AA"}


def test_secure_entry_keys_are_two_hex_digits() -> None:
    refused({"samav": {"0001": ""}}, "address")


def test_specific_scope_accepts_device_specific_registers_only() -> None:
    config = parse_specific({"0200": "11" * 16, "0201.s": "A-1", "0280": "00" * 20, "02FF.s": "admin"})
    assert set(config.registers) == {0x0200, 0x0201, 0x0280, 0x02FF}
    assert parse_specific({"config": {"0F": "", "81": "00" * 16}}).registers.keys() == {0x020F, 0x0281}
    refused({"0230": "01"}, "not-specific", "0230", specific=True)
    refused({"0244.s": "ble"}, "not-specific", "0244", specific=True)
    refused({"templates": {"10": ""}}, "not-specific", "0310", specific=True)
    refused({"atecc": {}}, "section", specific=True)


def test_specific_scope_still_checks_sizes() -> None:
    refused({"0201.s": "x" * 33}, "size", "0201", specific=True)


# --- secrets ----------------------------------------------------------------------------------------------


def test_secrets_stay_out_of_repr_public_json_and_errors() -> None:
    config = parse_config({"config": {"FE.s": "hunter2", "01.s": "A-1"}, "atecc": {"00": "C0FFEE"}})
    assert b"hunter2".hex().upper() in config.canonical_json().decode()  # what is written
    for text in (repr(config), config.public_json().decode()):
        assert "hunter2" not in text
        assert "68756E74657232" not in text.upper()
        assert "C0FFEE" not in text.upper()
    assert json.loads(config.public_json())["config"]["02FE"] == SECRET_MARK
    assert config.secrets == ("02FE", "atecc")
    other = parse_config({"config": {"FE.s": "hunter3", "01.s": "A-1"}, "atecc": {"00": "C0FFEE"}})
    assert other.public_sha256() == config.public_sha256()
    assert other.sha256() != config.sha256()


def test_a_blank_secret_is_not_a_secret() -> None:
    config = parse_config({"02FF": ""})
    assert config.secrets == ()
    assert json.loads(config.public_json()) == {"config": {"02FF": ""}}


def test_error_messages_never_quote_values() -> None:
    for body in (
        {"02FE": "zzsecret"},
        {"02FE.i": "secret"},
        {"02FE.64": "sec!ret"},
        {"02FE.s": "s" * 17 + "x"},
    ):
        with pytest.raises(ConfigDataError) as caught:
            parse_config(body)
        assert "secret" not in str(caught.value)
        assert "sx" not in str(caught.value)


def test_config_data_is_frozen() -> None:
    config = parse_config({"0201": "AA"})
    with pytest.raises(TypeError):
        config.registers[0x0201] = b""  # type: ignore[index]
    with pytest.raises(AttributeError):
        config.registers = {}  # type: ignore[misc]
    assert isinstance(config, ConfigData)
