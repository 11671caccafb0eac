"""File key store: creation, permissions, formats, key ids and the [keys] URIs of station.toml."""

from __future__ import annotations

import hashlib
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from station.core import codec
from station.core.errors import ConfigError
from station.factory.keys.keystore import (
    FileKeyStore,
    KeyRef,
    key_id,
    open_key,
    open_keystore,
    raw_public_bytes,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_are_created_once_0600_in_a_0700_folder(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    signing = store.ed25519("station-signing")
    ca = store.p256("factory-ca")
    checkin = store.x25519("checkin")
    assert mode(tmp_path / "keys") == 0o700
    for name in ("station-signing.pem", "factory-ca.pem", "checkin.key"):
        assert mode(tmp_path / "keys" / name) == 0o600
    assert sorted(f.name for f in (tmp_path / "keys").iterdir()) == [
        "checkin.key",
        "factory-ca.pem",
        "station-signing.pem",
    ]
    again = FileKeyStore(tmp_path / "keys")
    assert codec.ed25519_public_raw(again.ed25519("station-signing")) == codec.ed25519_public_raw(signing)
    assert raw_public_bytes(again.p256("factory-ca")) == raw_public_bytes(ca)
    assert again.x25519("checkin") == checkin


def test_pem_files_are_pkcs8_that_other_tools_read(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.p256("ca")
    text = (tmp_path / "ca.pem").read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(text.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)


def test_x25519_keeps_the_raw_base64_format(tmp_path: Path) -> None:
    (tmp_path / "checkin.key").write_text(codec.b64encode(bytes(range(32))) + "\n")
    (tmp_path / "checkin.key").chmod(0o600)
    assert FileKeyStore(tmp_path).x25519("checkin") == bytes(range(32))


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o660])
def test_group_or_other_readable_key_is_refused(tmp_path: Path, loose: int) -> None:
    store = FileKeyStore(tmp_path)
    store.ed25519("signing")
    (tmp_path / "signing.pem").chmod(loose)
    with pytest.raises(ConfigError, match="readable by others") as info:
        store.ed25519("signing")
    assert info.value.path == str(tmp_path / "signing.pem")


def test_garbage_key_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "factory-ca.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not an unencrypted PEM") as info:
        FileKeyStore(tmp_path).p256("factory-ca")
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_wrong_kind_of_key_is_refused(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.ed25519("k")
    with pytest.raises(ConfigError, match="expected P-256"):
        store.p256("k")
    other = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "p384.pem").write_bytes(other)
    (tmp_path / "p384.pem").chmod(0o600)
    with pytest.raises(ConfigError, match="secp384r1 key, expected P-256"):
        store.p256("p384")
    with pytest.raises(ConfigError, match="expected Ed25519"):
        store.ed25519("p384")


def test_a_bad_raw_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkin.key"
    path.write_text(codec.b64encode(b"short") + "\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="holds 5 bytes"):
        FileKeyStore(tmp_path).x25519("checkin")
    path.write_text("*** not base64 ***\n")
    with pytest.raises(ConfigError, match="not a base64 key") as info:
        FileKeyStore(tmp_path).x25519("checkin")
    assert info.value.path == str(path)


def test_key_names_are_plain_file_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="plain file name"):
        FileKeyStore(tmp_path).ed25519("../escape")


def test_concurrent_first_use_yields_one_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    results: list[bytes] = []
    lock = threading.Lock()

    def use() -> None:
        key = codec.ed25519_public_raw(store.ed25519("shared"))
        with lock:
            results.append(key)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert [f.name for f in (tmp_path / "keys").iterdir()] == ["shared.pem"]


def test_key_id_is_16_hex_of_sha256_of_the_raw_public_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    signing = store.ed25519("s")
    raw = codec.ed25519_public_raw(signing)
    assert key_id(signing) == hashlib.sha256(raw).hexdigest()[:16]
    assert key_id(signing.public_key()) == key_id(raw)
    ca = store.p256("ca")
    assert key_id(ca) == hashlib.sha256(codec.p256_uncompressed(ca.public_key())).hexdigest()[:16]
    assert len(key_id(ca)) == 16


def test_file_uris_resolve_relative_to_the_data_dir(tmp_path: Path) -> None:
    ref = open_key("file:keys/station-signing.pem", tmp_path)
    assert isinstance(ref, KeyRef)  # a file: URI, not a token key
    assert ref.store.folder == tmp_path / "keys"
    assert ref.name == "station-signing"
    assert isinstance(ref.ed25519(), ed25519.Ed25519PrivateKey)
    assert (tmp_path / "keys" / "station-signing.pem").exists()
    assert ref.sibling(".crt.pem") == tmp_path / "keys" / "station-signing.crt.pem"
    absolute = open_key(f"file:{tmp_path}/elsewhere/checkin.key", Path("/nonexistent"))
    assert len(absolute.x25519()) == 32
    assert open_keystore("file:keys/ca.pem", tmp_path).folder == tmp_path / "keys"


def test_pkcs11_without_token_access_and_unknown_uris_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"needs \[keys\] pkcs11_module and pin_file or pin_env") as info:
        open_key("pkcs11:token=station;object=ca", tmp_path, setting="keys.ca")
    assert info.value.key == "keys.ca"
    with pytest.raises(ConfigError, match="must be file:"):
        open_key("keys/ca.pem", tmp_path)
    with pytest.raises(ConfigError, match=r"ends in \.key"):
        open_key("file:keys/ca.der", tmp_path)
