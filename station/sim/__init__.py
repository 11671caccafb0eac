"""Simulated peers of the real devices: the Encedo PPA (``sim.ppa``) and, later, the SpringCard Companion.

Simulators serve the real protocols over real HTTP on 127.0.0.1; the station's client code has no
simulation branch. Nothing outside ``sim/`` and the tests imports this package, and a simulator refuses
to start inside a production configuration (``refuse_in_production``).
"""

from __future__ import annotations

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
