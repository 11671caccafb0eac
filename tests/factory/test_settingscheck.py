"""``[backend]``, ``[keys]`` and ``[firmware]`` at start-up: where attestations go, who may read the keys,
what firmware version units are held to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from station.core import codec
from station.core.config import StationConfig, load
from station.core.errors import ConfigError
from station.factory.settingscheck import (
    backend_url_problem,
    check_key_files,
    check_settings,
    firmware_require_problem,
)

MINIMAL = '[station]\nid = "s"\nsimulated = true\n'


def config(tmp_path: Path, text: str) -> StationConfig:
    path = tmp_path / "station.toml"
    path.write_text(MINIMAL + text)
    return load(path)


@pytest.mark.parametrize(
    "url",
    [
        "https://factory.example",
        "https://factory.example:8443/ppa/v1/",
        "HTTPS://Factory.Example",
        "https://192.0.2.10",
        "https://[2001:db8::1]:443",
        "http://127.0.0.1:8080",
        "http://127.255.255.254/api",
        "http://[::1]:9",
        "http://localhost:8000",
        "https://x:1",
        "https://x:65535",
    ],
)
def test_backend_urls_that_are_accepted(url: str) -> None:
    assert backend_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://factory.example", "http:// only to this machine"),
        ("http://192.168.7.1", "http:// only to this machine"),
        ("http://127.0.0.1.nip.io", "http:// only to this machine"),
        ("ftp://factory.example", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("factory.example", "scheme 'missing'"),
        ("https://user:pw@factory.example", "credentials"),
        ("https://user@factory.example", "credentials"),
        ("https://factory.example/?token=1", "query or fragment"),
        ("https://factory.example/?", "query or fragment"),
        ("https://factory.example/#x", "query or fragment"),
        ("https://x:0", "port"),
        ("https://x:65536", "port"),
        ("https://x:https", "port"),
        ("https:///ppa", "not a host name"),
        ("https://bad_host.example", "not a host name"),
        ("https://factory.example/a b", "spaces, control"),
        ("https://factory.example/\n", "spaces, control"),
        ("https://fäctory.example", "non-ASCII"),
        ("", "spaces, control"),
    ],
)
def test_backend_urls_that_are_refused(url: str, message: str) -> None:
    problem = backend_url_problem(url)
    assert problem is not None and message in problem
    assert "allowed: https://host[:port][/path]" in problem


def test_the_backend_url_and_check_in_key_are_checked_with_file_and_key(tmp_path: Path) -> None:
    bad_url = config(tmp_path, '[backend]\nkind = "remote"\nurl = "http://factory.example"\n')
    with pytest.raises(ConfigError, match="http:// only to this machine") as info:
        check_settings(bad_url)
    assert (info.value.path, info.value.key) == (bad_url.path, "backend.url")
    good_key = codec.x25519_public_b64(bytes(range(32)))
    check_settings(
        config(
            tmp_path, f'[backend]\nkind = "remote"\nurl = "https://f.example"\ncheckin_key = "{good_key}"\n'
        )
    )
    for key, message in (("AAAA", "decodes to 3 bytes"), (codec.b64encode(bytes(32)), "low-order point")):
        bad_key = config(
            tmp_path, f'[backend]\nkind = "remote"\nurl = "https://f.example"\ncheckin_key = "{key}"\n'
        )
        with pytest.raises(ConfigError, match=message) as info:
            check_settings(bad_key)
        assert (info.value.path, info.value.key) == (bad_key.path, "backend.checkin_key")


@pytest.mark.parametrize(
    ("require", "problem"),
    [
        ("Encedo nGINE FW v1.2.2", None),
        ("v1", None),
        ("Encedo nGINE FW v1.2.3-DIAG", None),
        ("v1.2." + "x" * 51, None),  # 56 characters: the longest fwv text accepted
        ("v1.2." + "x" * 52, "56 characters at most"),
        ("latest", "no version number"),
        ("", "not allowed"),
        ("v1.2\n", "not allowed"),
        ("v1.2\x1b[0m", "not allowed"),
    ],
)
def test_the_firmware_requirement_is_a_version_units_can_be_held_to(
    require: str, problem: str | None
) -> None:
    found = firmware_require_problem(require)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_the_firmware_requirement_is_checked_with_file_and_key(tmp_path: Path) -> None:
    bad = config(tmp_path, '[firmware]\nrequire = "the newest"\n')
    with pytest.raises(ConfigError, match="no version number") as info:
        check_settings(bad)
    assert (info.value.path, info.value.key) == (bad.path, "firmware.require")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('require = "v1.2.3"\n', "a firmware requirement needs release_key"),
        ('release_key = "c2hvcnQ="\n', "the release key is 5 bytes, expected a 32-byte Ed25519 public key"),
        ('release_key = "not base64!"\n', "the release key not base64 text"),
    ],
)
def test_the_release_key_is_checked_with_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    bad = config(tmp_path, "[firmware]\n" + table)
    with pytest.raises(ConfigError, match=message) as info:
        check_settings(bad)
    assert (info.value.path, info.value.key) == (bad.path, "firmware.release_key")


def test_key_files_others_may_read_are_refused_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    cfg = config(tmp_path, "")
    check_key_files(cfg, data)  # no key made yet: they are created 0600 on first start
    for name, role in (
        ("factory-ca.pem", "ca"),
        ("station-signing.pem", "signing"),
        ("checkin.key", "checkin"),
    ):
        path = data / "keys" / name
        path.write_text("not read\n")
        path.chmod(0o644)
        with pytest.raises(ConfigError, match=re.escape(f"run chmod 600 {path}")) as info:
            check_key_files(cfg, data)
        assert (info.value.path, info.value.key) == (str(path), f"keys.{role}")
        path.chmod(0o600)
    check_key_files(cfg, data)


def test_an_absolute_key_file_and_the_token_pin_file_are_checked(tmp_path: Path) -> None:
    key = tmp_path / "elsewhere" / "signing.pem"
    key.parent.mkdir()
    key.write_text("not read\n")
    key.chmod(0o640)
    cfg = config(tmp_path, f'[keys]\nsigning = "file:{key}"\n')
    with pytest.raises(ConfigError, match=re.escape(f"chmod 600 {key}")):
        check_key_files(cfg, tmp_path / "data")
    pin = tmp_path / "token.pin"
    pin.write_text("1234\n")
    pin.chmod(0o604)
    token = config(
        tmp_path, '[keys]\nca = "pkcs11:token=t;object=ca"\npkcs11_module = "/m.so"\npin_file = "token.pin"\n'
    )
    with pytest.raises(ConfigError, match=re.escape(f"chmod 600 {pin}")) as info:
        check_key_files(token, tmp_path / "data")
    assert info.value.key == "keys.pin_file" and "1234" not in str(info.value)
    pin.chmod(0o600)
    check_key_files(token, tmp_path / "data")
