"""Reader profiles: the global CONFIG-DATA file of ``[reader_profile.<name>]``, each reader's own registers.

>>> [(hex(a), value) for a, value in unit_registers("RDR-251C1A74", "Line 1, bench 3").registers.items()]
[('0x201', b'RDR-251C1A74'), ('0x202', b'Line 1, bench 3')]
>>> unit_registers("RDR-251C1A74", "x" * 33)          # a location must fit register 0202 (32 bytes)
Traceback (most recent call last):
station.core.errors.ConfigDataError: register 0202 (key "0202.s") breaks the size rule: 33 bytes given; ...
"""

from __future__ import annotations

from pathlib import Path

from station.core.config import StationConfig
from station.core.errors import ConfigDataError, ConfigError
from station.devices.springcore.configdata import ConfigData, load_body, parse_config, parse_specific

INVENTORY_REGISTER = 0x0201
LOCATION_REGISTER = 0x0202


def load_reader_config(path: Path, *, location: str = "") -> ConfigData:
    """The validated global configuration in ``path``; ``location`` is checked to fit its register."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read reader configuration {path}: {exc.strerror}"
        raise ConfigDataError(message, rule="file") from None
    try:
        config = parse_config(load_body(raw))
    except ConfigDataError as exc:
        raise ConfigDataError(f"{path}: {exc}", rule=exc.rule, register=exc.register, key=exc.key) from None
    unit_registers("", location)  # a location too long for 0202 is a profile error, found now
    return config


def load_reader_profiles(config: StationConfig) -> dict[str, ConfigData]:
    """Every ``[reader_profile.<name>]``'s configuration, loaded and validated; a file a reader would refuse
    is a ConfigError naming the station's file and ``reader_profile.<name>.config``."""
    loaded: dict[str, ConfigData] = {}
    for name, profile in config.reader_profiles.items():
        try:
            loaded[name] = load_reader_config(config.resolve(profile.config), location=profile.location)
        except ConfigDataError as exc:
            raise ConfigError(str(exc), path=config.path, key=f"reader_profile.{name}.config") from None
    return loaded


def unit_registers(inventory: str, location: str) -> ConfigData:
    """The per-reader body of ``PUT config/specific``: inventory number and location as UTF-8 text."""
    return parse_specific({f"{INVENTORY_REGISTER:04X}.s": inventory, f"{LOCATION_REGISTER:04X}.s": location})
