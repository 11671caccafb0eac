"""Timing profiles: how long the simulated unit takes to answer, reboot and format.

>>> FAST.delay("auth"), profile("realistic").delay("auth")     # 0.5 s: the firmware's brute-force pacing
(0.0, 0.5)
>>> profile("realistic*0.25").reboot                          # the same proportions, in less wall time
0.75
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from station.core.errors import ConfigError


@dataclass(frozen=True)
class TimingProfile:
    """Seconds per cost class. ``reboot`` is the time the unit is gone; ``fw_check`` a verification task."""

    name: str
    simple: float = 0.0
    auth: float = 0.0
    crypto: float = 0.0
    reboot: float = 0.0
    format: float = 0.0
    fw_check: float = 0.0

    def delay(self, cost: str) -> float:
        return float(getattr(self, cost))

    def scaled(self, factor: float) -> TimingProfile:
        """The same profile with every duration multiplied by ``factor``."""
        return replace(
            self,
            name=f"{self.name}x{factor:g}",
            **{
                k: getattr(self, k) * factor
                for k in ("simple", "auth", "crypto", "reboot", "format", "fw_check")
            },
        )


FAST = TimingProfile("fast")
REALISTIC = TimingProfile(
    "realistic", simple=0.05, auth=0.5, crypto=0.25, reboot=3.0, format=5.0, fw_check=4.0
)
PROFILES = {p.name: p for p in (FAST, REALISTIC)}


def profile(name: str) -> TimingProfile:
    """A profile by name, ``NAME`` or ``NAME*FACTOR``; a bad name is a ConfigError listing the choices."""
    base, star, factor = name.partition("*")
    try:
        chosen = PROFILES[base.strip()]
    except KeyError:
        raise ConfigError(
            f"unknown timing profile {name!r}; choose one of {', '.join(PROFILES)} (optionally NAME*FACTOR)"
        ) from None
    return chosen.scaled(_factor(name, factor)) if star else chosen


def _factor(name: str, text: str) -> float:
    """The positive finite number after ``*``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"timing scale in {name!r} must be a positive number, e.g. realistic*0.25")
    return value
