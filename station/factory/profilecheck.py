"""Profiles checked at start-up against the unit's own rules: refused at personalisation, after the unit's
one-shot certificate write, a bad value would cost every unit of the run an RMA.

>>> check_profile(Profile(storage_disk0size=99999999999999999), "p", source="station.toml")
Traceback (most recent call last):
station.core.errors.ConfigError: station.toml: [profile.p.storage_disk0size] 99999999999999999 is out of ...
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

from station.core.config import Profile, StationConfig
from station.core.errors import ConfigError, ProtocolError
from station.devices.ppa.cfgspec import INIT_CFG
from station.factory.keys.filemode import refuse_shared
from station.factory.keys.publickey import x25519_public
from station.factory.keys.secrets import secrets_for_unit
from station.factory.keys.strength import weak_passphrase_problem

# The init cfg fields a profile sets; masterkey and userkey are made per unit.
PROFILE_FIELDS = tuple(name for name, spec in INIT_CFG.items() if spec.kind != "key")
TEXT_MAX = 128  # the station's bound on any string it reads back from a unit
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_TEXT_RULE = f"printable ASCII (space to ~), at most {TEXT_MAX} characters: the station reads it back"


def check_profiles(config: StationConfig) -> None:
    """Every ``[profile.<name>]`` of ``config`` (a station may be started with any of them)."""
    for name, profile in config.profiles.items():
        check_profile(profile, name, source=config.path, base_dir=config.base_dir)


def check_profile(profile: Profile, name: str, *, source: str, base_dir: Path | None = None) -> None:
    """ConfigError naming ``source`` and ``profile.<name>.<field>`` for the first value not allowed.

    The ``cfg`` fields as the unit checks them (``devices/ppa/cfgspec.py``), then what the station adds:
    text it can read back unchanged, the address in the form the unit reports it. Then the escrow key
    (a usable X25519 point) and the batch secret files' modes (``base_dir``: the configuration's folder).
    """
    prefix = f"profile.{name}"
    for field in PROFILE_FIELDS:
        value = getattr(profile, field)
        problem = INIT_CFG[field].problem(value) or _station_problem(field, value)
        if problem is not None:
            raise ConfigError(problem, path=source, key=f"{prefix}.{field}")
    if profile.escrow_public_key is not None:
        try:
            x25519_public(profile.escrow_public_key)
        except ProtocolError as exc:
            raise ConfigError(
                f"the escrow public key {exc}", path=source, key=f"{prefix}.escrow_public_key"
            ) from None
    for what, file in (("passphrase", profile.passphrase_file), ("mnemonic", profile.mnemonic_file)):
        if file:
            path = Path(file) if Path(file).is_absolute() else (base_dir or Path.cwd()) / file
            refuse_shared(path, f"{what} file", key=f"{prefix}.{what}_file")


def check_secret_sources(
    profile: Profile,
    name: str,
    *,
    source: str,
    environ: Mapping[str, str],
    base_dir: Path,
    personalises: bool = True,
) -> None:
    """The batch passphrase and mnemonic of the profile the station runs with can be read, and are valid.

    Read once now and dropped (never logged): a variable not set or a file gone is found before the first
    unit, not at its personalisation. Sealed profiles make fresh secrets per unit: nothing to read.
    The mnemonic must be 24 BIP39 words with a valid checksum; when the station ``personalises`` units
    (production, RMA: not QA, which logs in to units made earlier), the passphrase must be strong enough.
    """
    if profile.secrets != "batch":
        return
    try:
        secrets = secrets_for_unit(profile, environ=environ, base_dir=base_dir, name=name)
    except ConfigError as exc:
        if exc.path is not None:  # a secret file's problem names that file
            raise
        message = str(exc).removeprefix(f"[{exc.key}] ")
        raise ConfigError(message, path=source, key=exc.key) from None
    problem = weak_passphrase_problem(secrets.passphrase) if personalises else None
    del secrets
    if problem is not None:
        env = profile.passphrase_env
        field, where = (
            ("passphrase_env", f"environment variable {env}")
            if env and environ.get(env)
            else ("passphrase_file", f"file {profile.passphrase_file}")
        )
        raise ConfigError(
            f"the batch passphrase from {where} {problem}", path=source, key=f"profile.{name}.{field}"
        )


def _station_problem(field: str, value: object) -> str | None:
    """What the station insists on beyond the unit's rules (values it must read back as it wrote them)."""
    kind = INIT_CFG[field].kind
    if not isinstance(value, str):
        return None
    if kind == "text" and (len(value) > TEXT_MAX or not _PRINTABLE.fullmatch(value)):
        return f"{value[:40]!r} is not allowed; allowed: {_TEXT_RULE}"
    return _address_problem(value) if kind == "cidr" else None


def _address_problem(value: str) -> str | None:
    """The unit's address: written as the unit reports it, and an address a host on its link can have."""
    interface = ipaddress.IPv4Interface(value)  # the unit's rule (is_cidr) passed
    network, address = interface.network, interface.ip
    if str(interface) != value:
        return f"{value!r} is not allowed; write {interface} (A.B.C.D/prefix: the form the unit reports)"
    if address in (network.network_address, network.broadcast_address):
        return f"{address} is the network or broadcast address of {network}; allowed: a host address in it"
    if address.is_loopback or address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a unicast host address; allowed: e.g. 192.168.7.1/24"
    return None
