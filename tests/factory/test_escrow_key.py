"""The QA/RMA bench's escrow private key: ``[keys] escrow``, a 0600 ``.key`` file, never a token key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from pkcs11 import KeyType

from station.core import codec
from station.core.config import ESCROW_FILE_ONLY, KeysSection, parse
from station.core.errors import ConfigError, VerificationError
from station.factory.escrow import WrongEscrowKey, raw_key_id, seal
from station.factory.keys.keystore import open_escrow

BUNDLE = {"passphrase": "QWER-TYUI-OPAS", "mnemonic": "abandon " * 23 + "art"}
GENUINE_ID = "0123456789abcdef01"


def key_file(folder: Path) -> tuple[Path, x25519.X25519PrivateKey]:
    private = x25519.X25519PrivateKey.generate()
    path = folder / "escrow.key"
    path.write_text(codec.b64encode(private.private_bytes_raw()) + "\n", encoding="ascii")
    path.chmod(0o600)
    return path, private


def sealed_to(private: x25519.X25519PrivateKey) -> dict[str, object]:
    public = private.public_key().public_bytes_raw()
    return seal(BUNDLE, public, devid=GENUINE_ID, purpose="unit-secrets")


def test_no_escrow_setting_means_no_key(tmp_path: Path) -> None:
    assert open_escrow(KeysSection(), tmp_path) is None


def test_a_relative_file_key_is_read_from_the_data_directory_and_opens_its_bundles(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    path, private = key_file(tmp_path / "keys")

    escrow = open_escrow(KeysSection(escrow="file:keys/escrow.key"), tmp_path)

    assert escrow is not None
    assert escrow.source == f"[keys] escrow = file:{path}"
    assert escrow.key_id == raw_key_id(private.public_key().public_bytes_raw())
    assert escrow.open(sealed_to(private), devid=GENUINE_ID, purpose="unit-secrets") == BUNDLE
    shown = repr(escrow)
    assert escrow.key_id in shown and str(path) in shown
    assert codec.b64encode(private.private_bytes_raw()) not in shown


def test_a_bundle_sealed_to_another_key_names_both_keys(tmp_path: Path) -> None:
    path, _ = key_file(tmp_path)
    other = x25519.X25519PrivateKey.generate()
    escrow = open_escrow(KeysSection(escrow=f"file:{path}"), tmp_path)
    assert escrow is not None

    with pytest.raises(WrongEscrowKey) as refused:
        escrow.open(sealed_to(other), devid=GENUINE_ID, purpose="unit-secrets")

    other_id = raw_key_id(other.public_key().public_bytes_raw())
    assert str(refused.value) == (
        f"sealed to escrow key {other_id}, not to this bench's escrow key {escrow.key_id} "
        f"([keys] escrow = file:{path})"
    )


def test_a_bundle_moved_to_another_units_record_does_not_open(tmp_path: Path) -> None:
    path, private = key_file(tmp_path)
    escrow = open_escrow(KeysSection(escrow=f"file:{path}"), tmp_path)
    assert escrow is not None

    with pytest.raises(VerificationError, match="sealed for another devid"):
        escrow.open(sealed_to(private), devid="another-unit", purpose="unit-secrets")


@pytest.mark.parametrize(
    ("name", "content", "mode", "expected"),
    [
        ("absent.key", None, 0o600, "[keys.escrow] the escrow key file does not exist"),
        (
            "shared.key",
            "ok",
            0o644,
            "escrow key file is readable by others (mode 644); run chmod",
        ),
        (
            "escrow.pem",
            "ok",
            0o600,
            "[keys.escrow] the escrow key is a raw X25519 key file",
        ),
        ("short.key", codec.b64encode(bytes(16)) + "\n", 0o600, "key file holds 16 bytes, expected 32"),
    ],
)
def test_a_bad_key_file_is_refused_naming_the_fix(
    tmp_path: Path, name: str, content: str | None, mode: int, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content if content != "ok" else codec.b64encode(bytes(range(32))) + "\n")
        path.chmod(mode)

    with pytest.raises(ConfigError) as refused:
        open_escrow(KeysSection(escrow=f"file:{path}"), tmp_path)

    assert expected in str(refused.value)
    assert not (tmp_path / "absent.key").exists()  # an escrow key is never made on first use


def test_a_token_escrow_key_is_refused_at_load_saying_why() -> None:
    document = {"station": {"id": "qa1"}, "keys": {"escrow": "pkcs11:token=factory;object=escrow"}}

    with pytest.raises(ConfigError) as refused:
        parse(document)

    assert str(refused.value) == f"<memory>: [keys.escrow] {ESCROW_FILE_ONLY}"
    with pytest.raises(ConfigError, match=r"\[keys\.escrow\] the escrow key \(X25519\) must be a file"):
        open_escrow(KeysSection(escrow="pkcs11:token=factory;object=escrow"), Path())


def test_the_reason_a_token_cannot_hold_the_escrow_key_still_holds() -> None:
    """python-pkcs11 has no CKK_EC_MONTGOMERY key type (nor SoftHSM2 2.6 the mechanism).

    If this fails, a newer release may hold X25519 keys in a token: pkcs11: escrow keys may be reconsidered.
    """
    assert "EC_MONTGOMERY" not in KeyType.__members__
