"""No private key, passphrase or mnemonic appears in any repr or exception message of the factory package."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from station.core import codec
from station.core.config import Profile
from station.core.errors import StationError
from station.factory.backend import LocalBackend
from station.factory.escrow import open_sealed
from station.factory.keys.keystore import FileKeyStore, KeyRef, open_key
from station.factory.keys.secrets import (
    derive_keys,
    seal_secrets,
    secrets_for_unit,
)

ESCROW_PRIVATE = bytes(range(200, 232))
ESCROW_B64 = codec.x25519_public_b64(ESCROW_PRIVATE)
PROFILE = Profile(secrets="sealed", escrow_public_key=ESCROW_B64)


def forms(secret: bytes) -> list[str]:
    """Ways a raw key could show up in text: its hex and its base64 variants."""
    return [secret.hex(), codec.b64encode(secret), codec.b64url_encode(secret)]


def pem_body_lines(pem: bytes) -> list[str]:
    """The base64 lines of a PEM body; a short last line ("Zw==") could turn up anywhere by chance."""
    lines = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    return [line for line in lines if len(line) >= 16]


def assert_clean(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:80]}..."


def collect_errors(*calls: object) -> list[str]:
    messages = []
    for call in calls:
        with pytest.raises(StationError) as info:
            call()  # type: ignore[operator]
        messages += [str(info.value), repr(info.value)]
    return messages


def test_nothing_secret_in_reprs_or_errors(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    backend = LocalBackend(store, clock=lambda: 1_700_000_000, name="leak-test")
    ca_key, signing, checkin = store.p256("factory-ca"), store.ed25519("signing"), store.x25519("checkin")
    pem = ca_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signing_raw = signing.private_bytes_raw()
    unit = secrets_for_unit(PROFILE, environ={}, base_dir=tmp_path)
    keys = derive_keys(unit, codec.b64encode(bytes(32)))
    secret_texts = [
        unit.passphrase,
        unit.passphrase.replace("-", ""),
        unit.mnemonic,
        " ".join(unit.mnemonic.split()[:3]),  # three words in a row: never by chance
        " ".join(unit.mnemonic.split()[-3:]),
        *pem_body_lines(pem),
        *forms(signing_raw),
        *forms(checkin),
        *forms(keys.master_private),
        *forms(keys.user_private),
        *forms(ESCROW_PRIVATE),
    ]

    texts = [
        repr(unit),
        str(unit),
        f"{unit}",
        repr(keys),
        repr(backend),
        repr(store),
        repr(KeyRef(store, "factory-ca")),
        repr(open_key("file:keys/checkin.key", tmp_path)),
    ]

    sealed = seal_secrets(unit, ESCROW_B64, devid="0011223344556677")
    texts.append(repr(sealed))
    tampered = dict(sealed, ciphertext=codec.b64encode(codec.b64decode(sealed["ciphertext"])[:-1] + b"\0"))
    bad_mnemonic = " ".join([*unit.mnemonic.split()[:-1], unit.mnemonic.split()[0]])
    batch = Profile(secrets="batch", passphrase_env="PW", mnemonic_env="WORDS")
    (tmp_path / "keys" / "broken.pem").write_text("-----BEGIN PRIVATE KEY-----\n" + unit.passphrase + "\n")
    (tmp_path / "keys" / "broken.pem").chmod(0o600)
    (tmp_path / "keys" / "loose.key").write_text(codec.b64encode(checkin))
    (tmp_path / "keys" / "loose.key").chmod(0o644)
    texts += collect_errors(
        lambda: open_sealed(tampered, ESCROW_PRIVATE),
        lambda: open_sealed(sealed, bytes(32)),
        lambda: secrets_for_unit(
            batch, environ={"PW": unit.passphrase, "WORDS": bad_mnemonic}, base_dir=tmp_path
        ),
        lambda: secrets_for_unit(batch, environ={"PW": unit.passphrase}, base_dir=tmp_path),
        lambda: store.p256("broken"),
        lambda: store.x25519("loose"),
        lambda: store.ed25519("factory-ca"),
        lambda: backend.checkin("a.b.c"),
        lambda: backend.issue_device_certificate("csr", "key", "genuine"),
    )
    assert_clean(texts, secret_texts)
