"""The device's notion of time: seconds since boot, until a check-in sets the clock to real time.

>>> source = ManualTime(); clock = DeviceClock(source)      # tests move time without sleeping
>>> source.advance(61); clock.now()                        # no battery-backed RTC: uptime
61
>>> clock.set_rtc(1_700_000_000); source.advance(5); clock.now(), DeviceClock(source, drift=0.08).rate
(1700000005, 1.08)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MonotonicSource = Callable[[], float]


class ManualTime:
    """A monotonic source that only moves when told to (for tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class DeviceClock:
    """Device time: seconds since boot until the RTC is set, then RTC time. Reset on every boot.

    ``drift``: the unit's time runs fast by this fraction (its uptime and its RTC alike); the unit's own
    timers that the station never sees (nonce lifetime, task durations) use ``monotonic`` unchanged.
    """

    def __init__(self, monotonic: MonotonicSource = time.monotonic, *, drift: float = 0.0) -> None:
        self.monotonic = monotonic
        self.rate = 1.0 + drift
        self._boot = monotonic()
        self._rtc_base: int | None = None
        self._rtc_mono = 0.0

    def boot(self) -> None:
        """Power-up: the RTC is lost and uptime restarts."""
        self._boot = self.monotonic()
        self._rtc_base = None

    @property
    def rtc_set(self) -> bool:
        return self._rtc_base is not None

    def uptime(self) -> int:
        return int((self.monotonic() - self._boot) * self.rate)

    def set_rtc(self, unix_time: int) -> None:
        self._rtc_base = unix_time
        self._rtc_mono = self.monotonic()

    def now(self) -> int:
        """Device time in whole seconds (Unix time once the RTC is set, else uptime)."""
        if self._rtc_base is None:
            return self.uptime()
        return self._rtc_base + int((self.monotonic() - self._rtc_mono) * self.rate)
