"""Reader profiles: the global CONFIG-DATA file of ``[reader_profile.<name>]``, each reader's own registers.

Example::

    global_config = load_reader_config(Path("profiles/readers/bench.json"), location="Line 1, bench 3")
    loaded = load_reader_profiles(config)       # {name: ConfigData} of every [reader_profile.<name>]
    client.put_config(device_id, global_config, specific="preserve")
    client.put_specific(device_id, unit_registers("RDR-251C1A74", "Line 1, bench 3"))

Every profile's file is validated when the station is assembled (``load_reader_profiles``), before any
reader is touched, so a profile that a reader would refuse with 422 stops the station at start-up, naming
the file, the register and the rule, instead of failing the first reader on the bench (``config.py``
checks only the shape of the ``[reader_profile.<name>]`` tables). Per-unit values go to the
device-specific registers 0201 (inventory number) and 0202 (location), the "Inventory" and "Location" of
the reference (§4.2).
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
