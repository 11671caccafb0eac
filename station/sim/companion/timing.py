"""Timing profiles of the simulated Companion Service: answer delay, lock windows, restart window.

>>> profile("realistic").restart, profile("realistic*0.5").write     # ``fast`` (tests, CI) adds nothing
(0.3, 0.1)
>>> replace(FAST, write=math.inf).write         # holds a reader's lock until SimulatedReader.release()
inf
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from station.core.errors import ConfigError


@dataclass(frozen=True)
class CompanionTiming:
    """Seconds: ``simple`` every answer; lock windows ``write`` and ``wink``; ``restart`` of a reader."""

    name: str
    simple: float = 0.0
    write: float = 0.0
    wink: float = 0.0
    restart: float = 0.0

    def scaled(self, factor: float) -> CompanionTiming:
        """The same profile with every duration multiplied by ``factor``."""
        durations = {key: getattr(self, key) * factor for key in ("simple", "write", "wink", "restart")}
        return replace(self, name=f"{self.name}x{factor:g}", **durations)


FAST = CompanionTiming("fast")
REALISTIC = CompanionTiming("realistic", simple=0.005, write=0.2, wink=0.5, restart=0.3)
PROFILES = {p.name: p for p in (FAST, REALISTIC)}


def profile(name: str) -> CompanionTiming:
    """A profile by name, ``NAME`` or ``NAME*FACTOR``; a bad name is a ConfigError listing the choices."""
    base, star, factor_text = name.partition("*")
    chosen = PROFILES.get(base.strip())
    if chosen is None:
        raise ConfigError(
            f"unknown timing profile {name!r}; choose one of {', '.join(PROFILES)} (optionally NAME*FACTOR)"
        )
    if not star:
        return chosen
    try:
        factor = float(factor_text)
    except ValueError:
        factor = math.nan
    if not math.isfinite(factor) or factor <= 0:
        raise ConfigError(f"timing scale in {name!r} must be a positive number, e.g. realistic*0.25")
    return chosen.scaled(factor)
