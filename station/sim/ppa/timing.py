"""Timing profiles: how long the simulated unit takes to answer, reboot, install, check and format.

``realistic`` holds the real unit's figures (docs/simulator.md, "Timing of the real unit"); ``fast`` keeps
the same sequence with small figures, so every test meets it without waiting long.

>>> FAST.delay("auth"), profile("realistic").delay("auth"), profile("realistic*0.25").reboot  # scaled
(0.0, 0.5, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from station.core.errors import ConfigError

DURATIONS = ("simple", "auth", "crypto", "pre_reboot", "reboot", "install", "format", "fw_check")


@dataclass(frozen=True)
class TimingProfile:
    """Seconds per cost class and per device task.

    ``pre_reboot``: the old boot keeps answering this long after the 200 of a reboot, install, wipe-out or
    shutdown; ``reboot``: then it is gone this long; ``install``: gone this long instead after a firmware
    install (the bootloader flashes); ``fw_check``: a verification task answers 202 this long; ``format``:
    the storage format after personalisation; ``drift``: the unit's clock runs fast by this fraction.
    """

    name: str
    simple: float = 0.0
    auth: float = 0.0
    crypto: float = 0.0
    pre_reboot: float = 0.0
    reboot: float = 0.0
    install: float = 0.0
    format: float = 0.0
    fw_check: float = 0.0
    drift: float = 0.0

    def delay(self, cost: str) -> float:
        return float(getattr(self, cost))

    def scaled(self, factor: float) -> TimingProfile:
        """The same profile with every duration multiplied by ``factor`` (the drift is a rate: kept)."""
        return replace(
            self, name=f"{self.name}x{factor:g}", **{k: getattr(self, k) * factor for k in DURATIONS}
        )


# ``fast`` keeps the clock exact (tests count the unit's seconds); ``replace(FAST, drift=0.08)`` drifts.
FAST = TimingProfile("fast", pre_reboot=0.05, reboot=0.1, install=0.15, format=0.05, fw_check=0.05)
REALISTIC = TimingProfile(
    "realistic",
    simple=0.05,
    auth=0.5,
    crypto=0.25,
    pre_reboot=2.0,
    reboot=8.0,
    install=15.0,
    format=5.0,
    fw_check=4.0,
    drift=0.08,
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
