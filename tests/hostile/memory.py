"""How much this process's memory grew over a block, with a ceiling that keeps a failing test from
taking the machine down (the station under test runs in this process).

Example::

    with MemoryWatch(ceiling=250 * MB, on_trip=hostile.close) as memory:
        station.run(units=2)
    assert memory.growth < 100 * MB, memory.describe()

``growth`` is the peak resident size during the block minus the resident size at its start: the kernel's
high-water mark (``VmHWM``, reset at the start through ``/proc/self/clear_refs``) when it can be reset, and
in any case the peak of samples taken every few milliseconds. Past ``ceiling`` the watch calls ``on_trip``
once (the test closes the hostile unit: the flood stops). A station that keeps allocating anyway (a gzip
body already in its socket buffer) meets an address-space limit ``address_headroom`` above the start and
gets ``MemoryError`` instead of the kernel's OOM killer; both limits are lifted when the block ends.
"""

from __future__ import annotations

import contextlib
import resource
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Self

MB = 1024 * 1024
GB = 1024 * MB
STATUS = Path("/proc/self/status")
SAMPLE = 0.005  # seconds between samples


def _status_kb(name: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(name)


def rss() -> int:
    """Resident size of this process now, in bytes."""
    return _status_kb("VmRSS") * 1024


def _reset_high_water_mark() -> bool:
    """Reset VmHWM to the current resident size (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class MemoryWatch:
    """Peak resident-size growth of this process over a ``with`` block; see the module docstring."""

    def __init__(
        self,
        *,
        ceiling: int = 250 * MB,
        on_trip: Callable[[], None] | None = None,
        address_headroom: int | None = 2 * GB,
    ) -> None:
        self.ceiling = ceiling
        self.on_trip = on_trip
        self.address_headroom = address_headroom
        self.baseline = 0
        self.peak = 0
        self.tripped = False
        self._hwm_reset = False
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="memory-watch", daemon=True)
        self._previous_limit: tuple[int, int] | None = None

    @property
    def growth(self) -> int:
        """Peak growth in bytes so far (final once the block has ended)."""
        peak = self.peak
        if self._hwm_reset:
            with contextlib.suppress(OSError, LookupError):
                peak = max(peak, _status_kb("VmHWM") * 1024)
        return max(peak - self.baseline, 0)

    def describe(self) -> str:
        text = f"peak resident size grew by {self.growth / MB:.0f} MB (from {self.baseline / MB:.0f} MB)"
        if self.tripped:
            text += f"; it passed the {self.ceiling / MB:.0f} MB ceiling, so the hostile unit was closed"
        return text

    def __enter__(self) -> Self:
        self.baseline = self.peak = rss()
        self._hwm_reset = _reset_high_water_mark()
        if self.address_headroom is not None:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = _status_kb("VmSize") * 1024 + self.address_headroom
            if soft == resource.RLIM_INFINITY or soft > limit:
                self._previous_limit = (soft, hard)
                resource.setrlimit(
                    resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
                )
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join(2)
        with contextlib.suppress(OSError, LookupError):
            self.peak = max(self.peak, rss())
        if self._hwm_reset:
            with contextlib.suppress(OSError, LookupError):
                self.peak = max(self.peak, _status_kb("VmHWM") * 1024)
            self._hwm_reset = False  # the figure is final
        if self._previous_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._previous_limit)

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE):
            try:
                now = rss()
            except (OSError, LookupError):
                continue
            self.peak = max(self.peak, now)
            if not self.tripped and now - self.baseline > self.ceiling:
                self.tripped = True
                if self.on_trip is not None:
                    threading.Thread(target=self.on_trip, name="memory-trip", daemon=True).start()
