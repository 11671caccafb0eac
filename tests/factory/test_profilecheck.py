"""Profiles against the unit's rules at start-up: every cfg field's edge values pass and one past is refused.

The table (``devices/ppa/cfgspec.py``) is the simulator's too, so a profile this check passes is one the
simulated unit accepts; ``test_every_accepted_profile_is_one_the_unit_accepts`` holds the two together.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from station.core import codec
from station.core.config import Profile
from station.core.errors import ConfigError
from station.devices.ppa.cfgspec import CARD_SECTORS, INIT_CFG, STORAGE_MODES
from station.devices.ppa.protocol import generate_mnemonic
from station.factory.profilecheck import PROFILE_FIELDS, TEXT_MAX, check_profile, check_secret_sources
from station.pipeline.modes.production import CFG_FIELDS
from station.sim.ppa.cfgcheck import init_cfg_ok
from tests.simtools import default_cfg

ESCROW = codec.x25519_public_b64(bytes(range(200, 232)))
SOURCE = "/etc/ppa/station.toml"
# An X25519 point of order 8 (RFC 7748 test vectors use it): a key agreement with it gives zeros.
ORDER_8 = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")

# (field, accepted edge values, refused values and a piece of the message)
RULES: list[tuple[str, list[Any], list[tuple[Any, str]]]] = [
    ("user", ["", "u" * 32, "Line Seven ~!"], [("u" * 33, "at most 32"), ("Zürich", "printable ASCII")]),
    ("user", ["a b"], [("\x1b[31mPASS", "printable ASCII"), ("a\nb", "printable ASCII")]),
    ("email", ["", "e" * TEXT_MAX], [("e" * (TEXT_MAX + 1), "at most 128"), ("a\tb", "printable ASCII")]),
    ("origin", ["*", "o" * TEXT_MAX], [("o" * (TEXT_MAX + 1), "at most 128"), ("\x00", "printable ASCII")]),
    (
        "hostname",
        ["a", "a" * 63 + ".do", ".".join(["a" * 63] * 3 + ["b" * 61]), "x-1.ence.do"],
        [
            ("a" * 64 + ".do", "RFC 1123"),
            (".".join(["a" * 63] * 3 + ["b" * 62]), "RFC 1123"),  # 254 characters
            ("bad_host!", "RFC 1123"),
            ("-a.do", "RFC 1123"),
            ("my.ence.do.", "RFC 1123"),
            ("", "RFC 1123"),
        ],
    ),
    (
        "ip",
        ["10.0.0.1/8", "192.168.7.1/24", "192.168.7.1/30", "192.168.7.2/30"],
        [
            ("10.0.0.1/7", "/8 to /30"),
            ("192.168.7.1/31", "/8 to /30"),
            ("192.168.7.1", "/8 to /30"),
            ("192.168.7.1/255.255.255.0", "write 192.168.7.1/24"),
            ("192.168.7.0/24", "network or broadcast"),
            ("192.168.7.255/24", "network or broadcast"),
            ("192.168.7.3/30", "network or broadcast"),
            ("127.0.0.2/8", "not a unicast host"),
            ("224.0.0.1/24", "not a unicast host"),
            ("240.0.0.1/8", "not a unicast host"),
            ("192.168.7.1/24 ", "/8 to /30"),
        ],
    ),
    ("storage_mode", list(STORAGE_MODES), [(0x52, "0x51"), (0, "0x51"), (0x151, "0x51")]),
    (
        "storage_disk0size",
        [1, 8_388_608, CARD_SECTORS - 1],
        [(0, "from 1"), (CARD_SECTORS, "to 121634815"), (99_999_999_999_999_999, "out of range"), (-1, "-1")],
    ),
    ("ctx", [0, 0xFFFF_FFFF], [(-1, "from 0 to 4294967295"), (0x1_0000_0000, "from 0 to 4294967295")]),
    *[
        (name, [True, False], [(1, "JSON boolean"), ("true", "JSON boolean")])
        for name in ("dnsd", "trusted_ts", "trusted_backend", "allow_keysearch", "gen_csr")
    ],
]
ACCEPTED = [(field, value) for field, good, _ in RULES for value in good]
REFUSED = [(field, value, message) for field, _, bad in RULES for value, message in bad]


def profile(**values: Any) -> Profile:
    return Profile(secrets="sealed", escrow_public_key=ESCROW, **values)


@pytest.mark.parametrize(("field", "value"), ACCEPTED)
def test_edge_values_are_accepted(field: str, value: Any) -> None:
    check_profile(profile(**{field: value}), "p", source=SOURCE)


@pytest.mark.parametrize(("field", "value", "message"), REFUSED)
def test_one_past_the_edge_is_refused_naming_file_key_and_what_is_allowed(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        check_profile(profile(**{field: value}), "line", source=SOURCE)
    assert (info.value.path, info.value.key) == (SOURCE, f"profile.line.{field}")
    assert "allowed" in str(info.value) or "write" in str(info.value)


def test_every_cfg_field_of_the_table_has_rules_here_and_a_profile_setting() -> None:
    tested = {field for field, _, _ in RULES}
    assert tested == set(PROFILE_FIELDS) == set(INIT_CFG) - {"masterkey", "userkey"}
    settings = {f.name for f in dataclasses.fields(Profile)}
    assert set(PROFILE_FIELDS) <= settings
    assert set(CFG_FIELDS) <= set(PROFILE_FIELDS)  # what personalisation sends and verify reads back


@pytest.mark.parametrize(("field", "value"), ACCEPTED)
def test_every_accepted_profile_is_one_the_unit_accepts(field: str, value: Any) -> None:
    """The station may be stricter than the unit, never laxer: the simulated unit's own init check."""
    cfg = default_cfg(**{field: value})
    assert init_cfg_ok(cfg)


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, value, _ in REFUSED if INIT_CFG[field].problem(value)]
)
def test_what_the_table_refuses_the_simulated_unit_refuses(field: str, value: Any) -> None:
    """The simulator's init check is built from the same table (only the station's own rules differ)."""
    assert not init_cfg_ok(default_cfg(**{field: value}))


def test_the_default_profile_passes() -> None:
    check_profile(profile(), "default", source=SOURCE)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("AAAA", "decodes to 3 bytes"),
        (codec.b64encode(bytes(31)), "decodes to 31 bytes"),
        (codec.b64encode(bytes(range(33))), "decodes to 33 bytes"),
        ("not base64!", "is not base64"),
        (codec.b64encode(bytes(32)), "low-order point"),
        (codec.b64encode(bytes([1]) + bytes(31)), "low-order point"),
        (codec.b64encode(ORDER_8), "low-order point"),
    ],
)
def test_an_escrow_key_nobody_can_use_is_refused(key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        check_profile(Profile(escrow_public_key=key), "p", source=SOURCE)
    assert (info.value.path, info.value.key) == (SOURCE, "profile.p.escrow_public_key")


def test_an_escrow_key_in_either_base64_alphabet_is_accepted() -> None:
    raw = bytes(range(200, 232))
    for text in (codec.x25519_public_b64(raw), codec.b64url_encode(codec.x25519_public_key(raw))):
        check_profile(Profile(escrow_public_key=text), "p", source=SOURCE)


def batch(tmp_path: Path, mode: int, **extra: Any) -> Profile:
    for name in ("pass.txt", "words.txt"):
        (tmp_path / name).write_text("hunter2 batch words\n")
        (tmp_path / name).chmod(mode)
    return Profile(secrets="batch", passphrase_file="pass.txt", mnemonic_file="words.txt", **extra)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o704])
def test_a_batch_secret_file_others_may_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"run chmod 600 {tmp_path / 'pass.txt'}")) as info:
        check_profile(batch(tmp_path, mode), "b", source=SOURCE, base_dir=tmp_path)
    assert info.value.key == "profile.b.passphrase_file"
    assert "hunter2" not in str(info.value)


def test_owner_only_secret_files_pass_and_a_missing_one_is_left_to_the_read(tmp_path: Path) -> None:
    check_profile(batch(tmp_path, 0o600), "b", source=SOURCE, base_dir=tmp_path)
    check_profile(batch(tmp_path, 0o400), "b", source=SOURCE, base_dir=tmp_path)
    (tmp_path / "words.txt").unlink()
    check_profile(batch(tmp_path, 0o600), "b", source=SOURCE, base_dir=tmp_path)


def test_the_batch_secrets_are_read_at_start_up_naming_the_configuration(tmp_path: Path) -> None:
    profile = Profile(secrets="batch", passphrase_env="PW", mnemonic_env="WORDS")
    with pytest.raises(ConfigError, match=r"environment variable PW .* is not set") as info:
        check_secret_sources(profile, "b", source=SOURCE, environ={}, base_dir=tmp_path)
    assert (info.value.path, info.value.key) == (SOURCE, "profile.b.passphrase_env")
    with pytest.raises(ConfigError, match="24 words") as info:
        check_secret_sources(
            profile, "b", source=SOURCE, environ={"PW": "x", "WORDS": "abandon " * 12}, base_dir=tmp_path
        )
    assert info.value.path == SOURCE
    good = {"PW": "batch passphrase", "WORDS": generate_mnemonic()}
    check_secret_sources(profile, "b", source=SOURCE, environ=good, base_dir=tmp_path)


def test_a_secret_file_problem_names_the_secret_file(tmp_path: Path) -> None:
    profile = Profile(secrets="batch", passphrase_file="gone.txt", mnemonic_env="WORDS")
    with pytest.raises(ConfigError, match="cannot read the passphrase file") as info:
        check_secret_sources(
            profile, "b", source=SOURCE, environ={"WORDS": generate_mnemonic()}, base_dir=tmp_path
        )
    assert (info.value.path, info.value.key) == (str(tmp_path / "gone.txt"), "profile.b.passphrase_file")


def test_a_sealed_profile_has_nothing_to_read(tmp_path: Path) -> None:
    check_secret_sources(profile(), "p", source=SOURCE, environ={}, base_dir=tmp_path)
