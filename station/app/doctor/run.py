"""Every check in the order an integrator fixes things: the station's setup, what it reaches, its slots,
the PC around them. A check that later ones need stops them when it fails (no configuration, nothing else).

>>> [check.name for check in run_checks(Path("no-such.toml"), Environment(clock=lambda: (True, "test")))]
['config']
"""

from __future__ import annotations

from pathlib import Path

from station.app.doctor import services, station, system, usbnet
from station.app.doctor.result import Check, Environment

USB_KINDS = ("usbnet",)


def run_checks(config_path: Path, env: Environment | None = None) -> list[Check]:
    """The results for the station ``config_path`` describes, on the PC ``env`` reads."""
    env = env or Environment()
    loaded, config = station.configuration(config_path)
    checks = [loaded]
    if config is None:
        return checks
    data_dir = config.resolve(config.station.data_dir)
    checks.append(station.data_directory(data_dir))
    checks.extend(station.keys(config, data_dir, env.environ))
    checks.append(services.backend(config.backend, env.environ, env.timeout))
    if config.store.line:
        checks.append(services.line_database(config.store.line, env.timeout))
    if config.label is not None:
        checks.append(services.printer(config.label, env.timeout))
    usb = [fixture for fixture in config.fixtures if fixture.kind in USB_KINDS]
    for fixture in usb:
        checks.extend(usbnet.slot_checks(fixture, config.fixture_hardware, env))
    if usb or any(fixture.controller for fixture in config.fixtures):
        checks.append(system.udev_rules(env.etc_root, config.fixture_hardware))
    checks.extend(system.controllers(config.fixtures, env.timeout))
    checks.extend(services.companions(config))
    checks.append(system.clock(env.clock))
    return checks
