"""Per-profile key policy: sealed (fresh per unit) and batch (env or file), and the derived public keys."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from station.core import codec
from station.core.config import Profile
from station.core.errors import ConfigError
from station.devices.ppa import protocol as p
from station.factory.escrow import open_sealed
from station.factory.keys.secrets import (
    UnitSecrets,
    derive_keys,
    generate_passphrase,
    public_keys,
    seal_secrets,
    secrets_for_unit,
)

ESCROW_PRIVATE = bytes(range(200, 232))
ESCROW_B64 = codec.x25519_public_b64(ESCROW_PRIVATE)
MNEMONIC = p.generate_mnemonic()
SEALED = Profile(secrets="sealed", escrow_public_key=ESCROW_B64)


def batch(
    *,
    passphrase_file: str | None = None,
    passphrase_env: str | None = None,
    mnemonic_file: str | None = None,
    mnemonic_env: str | None = None,
) -> Profile:
    return Profile(
        secrets="batch",
        passphrase_file=passphrase_file,
        passphrase_env=passphrase_env,
        mnemonic_file=mnemonic_file,
        mnemonic_env=mnemonic_env,
    )


def secret_file(path: Path, text: str) -> None:
    """A batch secret file as an operator must leave it: readable by its owner only."""
    path.write_text(text)
    path.chmod(0o600)


def test_sealed_policy_makes_fresh_secrets_per_unit(tmp_path: Path) -> None:
    one = secrets_for_unit(SEALED, environ={}, base_dir=tmp_path)
    two = secrets_for_unit(SEALED, environ={}, base_dir=tmp_path)
    assert one.passphrase != two.passphrase and one.mnemonic != two.mnemonic
    p.validate_mnemonic(one.mnemonic)
    assert re.fullmatch(r"([A-Z2-7]{4}-){6}[A-Z2-7]{2}", one.passphrase)


def test_passphrase_carries_128_bits() -> None:
    text = generate_passphrase().replace("-", "")
    assert len(base64.b32decode(text + "=" * 6)) == 16


def test_batch_from_environment(tmp_path: Path) -> None:
    profile = batch(passphrase_env="PPA_PASS", mnemonic_env="PPA_WORDS")
    environ = {"PPA_PASS": "correct horse", "PPA_WORDS": "  " + MNEMONIC.replace(" ", "\n ") + "\n"}
    assert secrets_for_unit(profile, environ=environ, base_dir=tmp_path) == UnitSecrets(
        "correct horse", MNEMONIC
    )


def test_batch_from_files_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    secret_file(tmp_path / "secrets" / "pass.txt", " spaced passphrase \n")
    secret_file(tmp_path / "secrets" / "words.txt", MNEMONIC + "\r\n")
    profile = batch(passphrase_file="secrets/pass.txt", mnemonic_file="secrets/words.txt")
    got = secrets_for_unit(profile, environ={}, base_dir=tmp_path)
    assert got == UnitSecrets(" spaced passphrase ", MNEMONIC)


def test_environment_wins_over_file_and_file_is_the_fallback(tmp_path: Path) -> None:
    secret_file(tmp_path / "pass.txt", "from file\n")
    secret_file(tmp_path / "words.txt", MNEMONIC)
    profile = batch(passphrase_env="PPA_PASS", passphrase_file="pass.txt", mnemonic_file="words.txt")
    assert (
        secrets_for_unit(profile, environ={"PPA_PASS": "from env"}, base_dir=tmp_path).passphrase
        == "from env"
    )
    assert secrets_for_unit(profile, environ={}, base_dir=tmp_path).passphrase == "from file"


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    profile = batch(passphrase_env="PPA_PASS", mnemonic_env="PPA_WORDS")
    with pytest.raises(ConfigError, match=r"environment variable PPA_PASS .* is not set") as info:
        secrets_for_unit(profile, environ={"PPA_WORDS": MNEMONIC}, base_dir=tmp_path, name="line")
    assert info.value.key == "profile.line.passphrase_env"


def test_missing_or_empty_file_is_named(tmp_path: Path) -> None:
    profile = batch(passphrase_file="nope.txt", mnemonic_env="W")
    with pytest.raises(ConfigError, match="cannot read the passphrase file") as info:
        secrets_for_unit(profile, environ={"W": MNEMONIC}, base_dir=tmp_path)
    assert info.value.path == str(tmp_path / "nope.txt")
    secret_file(tmp_path / "nope.txt", "\n")
    with pytest.raises(ConfigError, match="the passphrase file is empty"):
        secrets_for_unit(profile, environ={"W": MNEMONIC}, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("abandon " * 11 + "about", "24 words, not 12"),
        (" ".join([*MNEMONIC.split()[:-1], "zzzz"]), "unknown word or a wrong checksum"),
    ],
)
def test_invalid_batch_mnemonic_is_refused_without_echoing_it(
    tmp_path: Path, words: str, reason: str
) -> None:
    profile = batch(passphrase_env="P", mnemonic_env="PPA_WORDS")
    with pytest.raises(ConfigError, match=reason) as info:
        secrets_for_unit(profile, environ={"P": "pw", "PPA_WORDS": words}, base_dir=tmp_path)
    message = str(info.value)
    assert "environment variable PPA_WORDS" in message
    # Two words in a row would be an echo; one word alone may be the message's own ("wrong", "word").
    pairs = zip(words.split(), words.split()[1:], strict=False)
    assert not any(f"{first} {second}" in message for first, second in pairs)


def test_public_keys_match_the_protocol_derivations() -> None:
    secrets = UnitSecrets("correct horse battery staple", MNEMONIC)
    eid = codec.b64encode(bytes(range(32)))
    keys = derive_keys(secrets, eid)
    assert keys.master_private == p.master_private_key_from_mnemonic(MNEMONIC)
    assert keys.user_private == p.derive_user_private_key(secrets.passphrase, eid)
    assert keys.public() == (
        codec.x25519_public_b64(keys.master_private),
        codec.x25519_public_b64(keys.user_private),
    )
    assert public_keys(secrets, eid) == keys.public()


def test_sealed_secrets_open_with_the_escrow_key() -> None:
    secrets = UnitSecrets("pw-1", MNEMONIC)
    sealed = seal_secrets(secrets, ESCROW_B64, devid="0011223344556677")
    opened = open_sealed(sealed, ESCROW_PRIVATE, devid="0011223344556677", purpose="unit-secrets")
    assert opened == {"passphrase": "pw-1", "mnemonic": MNEMONIC}
    with pytest.raises(ConfigError, match="escrow_public_key decodes to 3 bytes"):
        seal_secrets(secrets, "AAAA", devid="0011223344556677")
    with pytest.raises(ConfigError, match="escrow_public_key is a low-order point"):
        seal_secrets(secrets, codec.b64encode(bytes(32)), devid="0011223344556677")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620])
def test_a_batch_secret_file_others_may_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    secret_file(tmp_path / "pass.txt", "batch passphrase\n")
    (tmp_path / "pass.txt").chmod(mode)
    profile = batch(passphrase_file="pass.txt", mnemonic_env="W")
    with pytest.raises(ConfigError, match=re.escape(f"run chmod 600 {tmp_path / 'pass.txt'}")) as info:
        secrets_for_unit(profile, environ={"W": MNEMONIC}, base_dir=tmp_path)
    assert info.value.key == "profile.default.passphrase_file"
    assert "batch passphrase" not in str(info.value)
