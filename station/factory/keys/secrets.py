"""Per-unit secrets by the profile's policy (``sealed``: fresh per unit; ``batch``): passphrase and mnemonic.

>>> unit = UnitSecrets(generate_passphrase(), " ".join(["abandon"] * 23 + ["art"])); unit
UnitSecrets(passphrase=<hidden>, mnemonic=<hidden>)
>>> len(unit.passphrase), unit.passphrase.count("-")        # 128 random bits: base32 in groups of four
(32, 6)
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.codec import x25519_public_b64
from station.core.config import Profile
from station.core.errors import ConfigError, ProtocolError
from station.devices.ppa.protocol import (
    derive_user_private_key,
    generate_mnemonic,
    master_private_key_from_mnemonic,
    validate_mnemonic,
)
from station.factory.escrow import seal
from station.factory.keys.filemode import refuse_shared
from station.factory.keys.publickey import x25519_public

SEALED_PURPOSE = "unit-secrets"
_HIDDEN = "<hidden>"


@dataclass(frozen=True, repr=False)
class UnitSecrets:
    """A unit's user passphrase and master mnemonic (secret: never logged, never in a record unsealed)."""

    passphrase: str
    mnemonic: str

    def __repr__(self) -> str:
        return f"UnitSecrets(passphrase={_HIDDEN}, mnemonic={_HIDDEN})"

    def bundle(self) -> dict[str, Any]:
        """The plaintext that ``seal_secrets`` encrypts (and ``station secrets open`` shows)."""
        return {"passphrase": self.passphrase, "mnemonic": self.mnemonic}


@dataclass(frozen=True, repr=False)
class UnitKeys:
    """The raw X25519 private keys derived from ``UnitSecrets`` for one unit (secret)."""

    master_private: bytes
    user_private: bytes

    def __repr__(self) -> str:
        masterkey, userkey = self.public()
        return f"UnitKeys(masterkey={masterkey!r}, userkey={userkey!r})"

    def public(self) -> tuple[str, str]:
        """``(masterkey_b64, userkey_b64)``: the init ``cfg`` values, public."""
        return x25519_public_b64(self.master_private), x25519_public_b64(self.user_private)


def secrets_for_unit(
    profile: Profile, *, environ: Mapping[str, str], base_dir: Path, name: str = "default"
) -> UnitSecrets:
    """Fresh secrets (``sealed``) or the batch's (``batch``); ``name`` is the profile's, for errors."""
    if profile.secrets == "sealed":
        return UnitSecrets(generate_passphrase(), generate_mnemonic())
    if profile.secrets != "batch":
        raise ConfigError(f"unknown key policy {profile.secrets!r}", key=f"profile.{name}.secrets")
    source = _Source(environ, base_dir, f"profile.{name}")
    passphrase = source.read("passphrase", profile.passphrase_env, profile.passphrase_file)
    mnemonic = " ".join(source.read("mnemonic", profile.mnemonic_env, profile.mnemonic_file).split())
    try:
        validate_mnemonic(mnemonic)
    except ProtocolError as exc:
        where = _describe(profile.mnemonic_env, profile.mnemonic_file, environ)
        raise ConfigError(
            f"the master mnemonic from {where} is not valid: {exc}", key=f"profile.{name}"
        ) from None
    return UnitSecrets(passphrase, mnemonic)


def generate_passphrase() -> str:
    """128 random bits as base32 in groups of four: ``ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ``."""
    text = base64.b32encode(os.urandom(16)).decode("ascii").rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def derive_keys(secrets: UnitSecrets, eid: str) -> UnitKeys:
    """Both private keys; the user key costs 600 000 PBKDF2 rounds, so call this once per unit."""
    return UnitKeys(
        master_private_key_from_mnemonic(secrets.mnemonic), derive_user_private_key(secrets.passphrase, eid)
    )


def public_keys(secrets: UnitSecrets, eid: str) -> tuple[str, str]:
    """``(masterkey_b64, userkey_b64)`` for a unit whose ``eid`` is given (runs the PBKDF2 once)."""
    return derive_keys(secrets, eid).public()


def seal_secrets(secrets: UnitSecrets, escrow_public_key: str, *, devid: str) -> dict[str, Any]:
    """A record's ``sealed_secrets``: the bundle sealed to the profile's escrow key, bound to ``devid``."""
    try:
        recipient = x25519_public(escrow_public_key)  # checked at start-up too (factory/profilecheck.py)
    except ProtocolError as exc:
        raise ConfigError(f"escrow_public_key {exc}", key="profile.escrow_public_key") from None
    return seal(secrets.bundle(), recipient, devid=devid, purpose=SEALED_PURPOSE)


@dataclass(frozen=True)
class _Source:
    """Reads one batch secret from an environment variable or a file (paths relative to ``base_dir``)."""

    environ: Mapping[str, str]
    base_dir: Path
    prefix: str

    def read(self, what: str, env: str | None, file: str | None) -> str:
        if env and self.environ.get(env):
            return self.environ[env]
        if file:
            return self._file(what, file)
        if env:
            raise ConfigError(
                f"environment variable {env} (the {what}) is not set", key=f"{self.prefix}.{what}_env"
            )
        raise ConfigError(
            f"the batch key policy needs {what}_env or {what}_file", key=f"{self.prefix}.{what}_file"
        )

    def _file(self, what: str, file: str) -> str:
        path = Path(file) if Path(file).is_absolute() else self.base_dir / file
        refuse_shared(path, f"{what} file", key=f"{self.prefix}.{what}_file")
        try:
            value = path.read_text("utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"cannot read the {what} file: {reason}", path=str(path), key=f"{self.prefix}.{what}_file"
            ) from None
        if not value:
            raise ConfigError(f"the {what} file is empty", path=str(path), key=f"{self.prefix}.{what}_file")
        return value


def _describe(env: str | None, file: str | None, environ: Mapping[str, str]) -> str:
    if env and environ.get(env):
        return f"environment variable {env}"
    return f"file {file}"
