"""Keys in a PKCS#11 token, against a real SoftHSM2 the test run sets up in a temporary folder."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11error

from station.core.config import KeysSection, parse
from station.core.errors import ConfigError
from station.factory.ca import create_ca_certificate
from station.factory.keys.keystore import (
    TokenKeyRef,
    configured_public_key,
    init_token_key,
    open_configured,
    open_key,
    token_access,
)
from station.factory.keys.pkcs11 import TokenAccess, TokenError, close_all, token_session
from station.factory.keys.pkcs11uri import parse_pkcs11_uri
from station.factory.keys.tokenkeys import (
    KeyKind,
    TokenEcdsaKey,
    TokenEd25519Key,
    create_token_key,
    open_token_key,
)
from station.records import jws
from tests.factory.softhsm import PIN_ENV, SoftHsm, shared_softhsm, unique_label

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


@pytest.fixture(autouse=True)
def logged_out() -> Iterator[None]:
    """Each test starts and ends with this process logged out of every token.

    A login is process-wide and kept (as a station keeps it all day), so without this a test that checks
    how the PIN is read passes or fails by which test logged in to its token earlier in the same process
    (``tests/pipeline/test_token_keys.py`` does, and the order differs under ``pytest -n``).
    """
    close_all()
    yield
    close_all()


def env_access(hsm: SoftHsm, token: str) -> TokenAccess:
    return TokenAccess(hsm.module, pin_env=PIN_ENV, environ={PIN_ENV: hsm.pin(token)})


def station_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        check=False,
    )


# --- URIs (no token needed) ------------------------------------------------------------------------------


def test_uri_round_trip_and_percent_encoding() -> None:
    uri = parse_pkcs11_uri("pkcs11:token=Line%201;object=factory-ca;id=%01%ff;type=private")
    assert (uri.token, uri.object, uri.id, uri.type) == ("Line 1", "factory-ca", b"\x01\xff", "private")
    assert parse_pkcs11_uri(str(uri)) == uri
    assert uri.slug == "Line_1.factory-ca"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("pkcs11:token=factory", "needs object="),
        ("pkcs11:object=ca", "needs token="),
        ("pkcs11:token=a;object=b;slot-id=3", "unknown attribute 'slot-id'"),
        ("pkcs11:token=a;token=b;object=c", "appears twice"),
        ("pkcs11:token=a;object=b;type=secret-key", "type must be private or public"),
        ("pkcs11:token=a;object=b%zz", "percent-encoded"),
        ("pkcs11:token=a;object=b?module-path=/tmp/evil.so", "pkcs11_module"),
    ],
)
def test_bad_uris_are_refused_naming_the_attribute(text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as info:
        parse_pkcs11_uri(text, setting="keys.ca")
    assert info.value.key == "keys.ca"


def test_a_pin_in_the_uri_is_refused_without_repeating_it() -> None:
    with pytest.raises(ConfigError, match=r"never lives in station\.toml") as info:
        parse_pkcs11_uri("pkcs11:token=a;object=b?pin-value=S3cret-4711")
    assert "S3cret-4711" not in str(info.value)


def test_config_requires_module_and_pin_source_for_token_keys() -> None:
    def keys(**table: str) -> None:
        parse({"station": {"id": "st"}, "keys": table})

    keys(ca="file:keys/ca.pem")  # file keys need neither
    with pytest.raises(ConfigError, match="pkcs11_module") as info:
        keys(ca="pkcs11:token=factory;object=ca", pin_env="PIN")
    assert info.value.key == "keys.pkcs11_module"
    with pytest.raises(ConfigError, match="pin_file or pin_env") as info:
        keys(signing="pkcs11:token=station;object=s", pkcs11_module="/usr/lib/x.so")
    with pytest.raises(ConfigError, match="check-in key"):
        keys(checkin="pkcs11:token=station;object=c", pkcs11_module="/m.so", pin_env="PIN")
    with pytest.raises(ConfigError, match="unknown key"):
        keys(ca="pkcs11:token=factory;object=ca", pkcs11_module="/m.so", pin="1234")  # no PIN in the file
    with pytest.raises(ConfigError, match="pkcs11_module and pin_file or pin_env"):
        open_key("pkcs11:token=factory;object=ca", Path("/nonexistent"), setting="keys.ca")


# --- keys in SoftHSM2 ------------------------------------------------------------------------------------


def test_ca_key_in_the_token_signs_certificates_and_never_leaves_it(hsm: SoftHsm, tmp_path: Path) -> None:
    """P-256 in the token, PIN from a 0600 file: a self-signed CA certificate made by the token verifies."""
    label = unique_label("factory-ca")
    keys = KeysSection(
        ca=hsm.uri("pinfile", label),
        pkcs11_module=hsm.module,
        pin_file=str(hsm.pin_file("pinfile", tmp_path)),
    )
    public = init_token_key(keys, keys.ca, None, tmp_path)  # type from the role: ca is P-256
    assert isinstance(public, ec.EllipticCurvePublicKey)
    ref = open_configured(keys, "ca", tmp_path)
    assert isinstance(ref, TokenKeyRef)
    ca_key = ref.p256()
    assert ca_key.public_key().public_numbers() == public.public_numbers()
    certificate = create_ca_certificate(ca_key, name="hsm", now=NOW)
    certificate.verify_directly_issued_by(certificate)
    assert certificate.signature_hash_algorithm is not None
    assert certificate.signature_hash_algorithm.name == "sha256"
    with token_session(ref.uri, ref.access, login=True) as session:
        (private,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label})
        assert private[Attribute.SENSITIVE] and not private[Attribute.EXTRACTABLE]
        with pytest.raises(p11error.AttributeSensitive):
            private[Attribute.VALUE]
    assert ref.sibling(".crt.pem") == tmp_path / "keys" / f"pinfile.{label}.crt.pem"
    assert "pin-" not in repr(ca_key) + repr(ref)


def test_ed25519_signing_key_in_the_token_signs_records(hsm: SoftHsm, tmp_path: Path) -> None:
    access = env_access(hsm, "station")
    uri = parse_pkcs11_uri(hsm.uri("station", unique_label("signing")))
    create_token_key(uri, access, KeyKind.ED25519)
    key = open_token_key(uri, access, KeyKind.ED25519)
    assert isinstance(key, TokenEd25519Key)
    public = key.public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    token = jws.sign({"seq": 1, "note": "made in the token"}, key, jws.key_id(public))
    assert jws.verify(token, public) == {"seq": 1, "note": "made in the token"}


def test_cli_keys_init_with_env_pin_then_export_without_any_pin(hsm: SoftHsm, tmp_path: Path) -> None:
    label = unique_label("station-signing")
    uri = hsm.uri("spare", label)
    (tmp_path / "station.toml").write_text(
        f'[station]\nid = "st"\ndata_dir = "data"\n[keys]\nsigning = "{uri}"\n'
        f'pkcs11_module = "{hsm.module}"\npin_env = "{PIN_ENV}"\n',
        encoding="utf-8",
    )
    created = station_cli("keys", "init", "--pkcs11", uri, cwd=tmp_path, env=hsm.environ("spare"))
    assert created.returncode == 0, created.stderr
    exported = station_cli("keys", "export", cwd=tmp_path, env=hsm.environ())  # no PIN in this environment
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == created.stdout
    public = serialization.load_pem_public_key(exported.stdout.encode("ascii"))
    assert isinstance(public, ed25519.Ed25519PublicKey)
    assert jws.key_id(public) in created.stderr
    again = station_cli("keys", "init", "--pkcs11", uri, cwd=tmp_path, env=hsm.environ("spare"))
    assert again.returncode == 2 and "already exists" in again.stderr
    for result in (created, exported, again):
        assert hsm.pin("spare") not in result.stdout + result.stderr


def test_wrong_pin_names_the_token_and_never_the_pin(
    hsm: SoftHsm, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "pin-" + "0" * 12
    access = TokenAccess(hsm.module, pin_env=PIN_ENV, environ={PIN_ENV: wrong})
    uri = parse_pkcs11_uri(hsm.uri("wrongpin", "anything"))
    with pytest.raises(ConfigError, match="wrong PIN for token 'wrongpin'") as info:
        create_token_key(uri, access, KeyKind.P256)
    assert f"environment variable {PIN_ENV}" in str(info.value)
    shown = str(info.value) + repr(info.value) + repr(access) + caplog.text
    assert wrong not in shown and hsm.pin("wrongpin") not in shown
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_token_key_errors_name_what_is_missing(hsm: SoftHsm, tmp_path: Path) -> None:
    access = env_access(hsm, "station")
    with pytest.raises(ConfigError, match=r"no token 'nosuch'.*'factory'"):
        open_token_key(parse_pkcs11_uri("pkcs11:token=nosuch;object=x"), access, KeyKind.P256)
    missing_uri = parse_pkcs11_uri(hsm.uri("station", unique_label("absent")))
    with pytest.raises(ConfigError, match="station keys init --pkcs11"):
        open_token_key(missing_uri, access, KeyKind.P256)
    signing = parse_pkcs11_uri(hsm.uri("station", unique_label("ed")))
    create_token_key(signing, access, KeyKind.ED25519)
    with pytest.raises(ConfigError, match="this role needs p256"):
        open_token_key(signing, access, KeyKind.P256)
    with pytest.raises(ConfigError, match="does not exist"):
        open_token_key(signing, TokenAccess("/nonexistent/libpkcs11.so"), KeyKind.ED25519)
    keys = KeysSection(signing=str(signing), pkcs11_module=hsm.module, pin_env=PIN_ENV)
    assert (
        configured_public_key(keys, "signing", tmp_path)
        == open_token_key(signing, access, KeyKind.ED25519).public_key()
    )


def test_a_pin_file_readable_by_others_is_refused(hsm: SoftHsm, tmp_path: Path) -> None:
    keys = KeysSection(
        ca=hsm.uri("factory", unique_label("ca")),
        pkcs11_module=hsm.module,
        pin_file=str(hsm.pin_file("factory", tmp_path, mode=0o644)),
    )
    with pytest.raises(ConfigError, match="chmod 600") as info:
        init_token_key(keys, keys.ca, None, tmp_path)
    assert hsm.pin("factory") not in str(info.value)
    access = token_access(keys, base_dir=tmp_path)
    assert access.pin_file == tmp_path / "factory.pin"


def test_certificate_from_token_matches_one_from_a_file_key_in_shape(hsm: SoftHsm) -> None:
    """The re-assembled certificate carries the same TBS structure cryptography builds for a file key."""
    access = env_access(hsm, "factory")
    uri = parse_pkcs11_uri(hsm.uri("factory", unique_label("shape")))
    create_token_key(uri, access, KeyKind.P256)
    token_key = open_token_key(uri, access, KeyKind.P256)
    assert isinstance(token_key, TokenEcdsaKey)
    token_cert = create_ca_certificate(token_key, name="x", now=NOW)
    file_cert = create_ca_certificate(ec.generate_private_key(ec.SECP256R1()), name="x", now=NOW)
    assert token_cert.signature_algorithm_oid == file_cert.signature_algorithm_oid
    assert [e.oid for e in token_cert.extensions] == [e.oid for e in file_cert.extensions]
    assert token_cert.subject == file_cert.subject
    der = token_cert.public_bytes(serialization.Encoding.DER)
    reloaded = x509.load_der_x509_certificate(der)
    reloaded.verify_directly_issued_by(reloaded)
    assert isinstance(reloaded.signature_hash_algorithm, hashes.SHA256)


def test_a_lost_session_fails_one_call_and_the_next_logs_in_again(hsm: SoftHsm) -> None:
    access = env_access(hsm, "station")
    uri = parse_pkcs11_uri(hsm.uri("station", unique_label("lost")))
    create_token_key(uri, access, KeyKind.ED25519)
    key = open_token_key(uri, access, KeyKind.ED25519)
    assert isinstance(key, TokenEd25519Key)
    with token_session(uri, access, login=True) as session:
        session.close()  # what a token removal or an HSM restart does to the station's session
    with pytest.raises(TokenError, match="token 'station'"):
        key.sign(b"first try")
    key.public_key().verify(key.sign(b"second try"), b"second try")


def test_the_firmware_release_key_can_live_in_the_token(hsm: SoftHsm, tmp_path: Path) -> None:
    """``[keys] release = "pkcs11:..."``: ``station firmware add`` signs the manifest in the token."""
    from station.factory.firmware import FirmwareCatalog

    uri = hsm.uri("spare", unique_label("firmware-release"))
    (tmp_path / "station.toml").write_text(
        f'[station]\nid = "st"\ndata_dir = "data"\n[keys]\nrelease = "{uri}"\n'
        f'pkcs11_module = "{hsm.module}"\npin_env = "{PIN_ENV}"\n[firmware]\ndir = "images"\n',
        encoding="utf-8",
    )
    env = hsm.environ("spare")
    created = station_cli("keys", "init", "--pkcs11", uri, "--type", "ed25519", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    public = serialization.load_pem_public_key(created.stdout.encode("ascii"))
    assert isinstance(public, ed25519.Ed25519PublicKey)
    (tmp_path / "fw.bin").write_bytes(os.urandom(1000))
    added = station_cli(
        "firmware", "add", "fw.bin", "--version", "Encedo nGINE FW v1.2.3", cwd=tmp_path, env=env
    )
    assert added.returncode == 0, added.stderr
    catalog = FirmwareCatalog.load(tmp_path / "images", public.public_bytes_raw())
    assert [image.fwv for image in catalog.images] == ["Encedo nGINE FW v1.2.3"]
    assert hsm.pin("spare") not in created.stdout + created.stderr + added.stdout + added.stderr
