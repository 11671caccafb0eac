"""Timing profiles of the simulated Companion Service: answer delay, lock windows, the restart sequence.

>>> REALISTIC.pre_restart, REALISTIC.restart, REALISTIC.reenumerate        # decision §11.13
(0.5, 2.5, 1.0)
>>> round(REALISTIC.restart_total(), 6), round(FAST.restart_total(), 6)   # the same sequence, scaled
(4.0, 0.4)
>>> replace(FAST, write=math.inf).write         # holds a reader's lock until SimulatedReader.release()
inf
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from station.core.errors import ConfigError

DURATIONS = ("simple", "write", "wink", "pre_restart", "restart", "reenumerate")


@dataclass(frozen=True)
class CompanionTiming:
    """Seconds: ``simple`` every answer; lock windows ``write`` and ``wink``; a reader's restart after a
    200 to ``PUT``/``DELETE config`` or ``reset`` (decision §11.13): it keeps answering as before for
    ``pre_restart``, is restarting (503 with Retry-After) for ``restart``, then unknown to the service
    (410, USB re-enumeration) for ``reenumerate``; a slow host's re-enumeration is up to ~15 s."""

    name: str
    simple: float = 0.0
    write: float = 0.0
    wink: float = 0.0
    pre_restart: float = 0.0
    restart: float = 0.0
    reenumerate: float = 0.0

    def scaled(self, factor: float) -> CompanionTiming:
        """The same profile with every duration multiplied by ``factor``."""
        durations = {key: getattr(self, key) * factor for key in DURATIONS}
        return replace(self, name=f"{self.name}x{factor:g}", **durations)

    def restart_total(self) -> float:
        """Seconds from a restarting write's 200 until the reader is back."""
        return self.pre_restart + self.restart + self.reenumerate


REALISTIC = CompanionTiming(
    "realistic", simple=0.005, write=0.2, wink=0.5, pre_restart=0.5, restart=2.5, reenumerate=1.0
)
FAST_SCALE = 0.1  # ``fast``: the realistic sequence at a tenth of its time, so every test meets it
FAST = replace(REALISTIC.scaled(FAST_SCALE), name="fast")
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
