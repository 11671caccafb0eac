"""Simulated peers of the real devices: the Encedo PPA (``sim.ppa``) and the SpringCard Companion Service.

>>> from station.fixtures import registry
>>> install(); "simulated" in registry.known()          # what the entry points that allow simulation do
True
>>> refuse_in_production(simulated_allowed=False)
Traceback (most recent call last):
station.core.errors.ConfigError: station.toml: [station.simulated] simulators cannot run in a production ...
"""

from __future__ import annotations

from station.core.config import SIMULATED_KIND, StationConfig
from station.core.errors import ConfigError


def refuse_in_production(simulated_allowed: bool, *, where: str = "station.toml") -> None:
    """Raise ConfigError when the station configuration is a production one (``simulated = false``)."""
    if not simulated_allowed:
        raise ConfigError(
            "simulators cannot run in a production configuration (set [station] simulated = true "
            "for a development or demo station)",
            path=where,
            key="station.simulated",
        )


def install() -> None:
    """Register the ``simulated`` fixture kind with the fixture registry (idempotent)."""
    from station.fixtures import registry
    from station.sim import fixture

    registry.register(SIMULATED_KIND, fixture.factory, fixture.check)


def install_for(config: StationConfig) -> None:
    """``install`` if ``config`` has simulated fixtures (a production configuration was refused at load)."""
    if any(fixture.kind == SIMULATED_KIND for fixture in config.fixtures):
        install()
