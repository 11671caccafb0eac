"""A minimum spacing between requests to one unit: firmware 1.2.2 hangs under sustained load (SDK notes).

>>> pacer = Pacer(0.05)
>>> with pacer.turn():
...     began = time.monotonic()
>>> with pacer.turn():                          # waits until 50 ms after the last request ended
...     time.monotonic() - began >= 0.05
True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

UNIT_SPACING = 0.15  # seconds between requests to one real unit ([station] request_spacing; SDKs: 150 ms)


class Pacer:
    """Each request starts ``spacing`` seconds after the previous one ended (and after the previous one
    started, when two threads share a unit); thread-safe. ``spacing`` 0 never waits.

    The C SDK's known issues: back-to-back requests can hang a unit until it is power-cycled (its watchdog
    is off); clients that kept 150 ms between requests (its ``request_pace_ms``) survived. The station does
    the same per slot: one pacer on the slot's transport, shared by its client and its presence probe.
    """

    def __init__(self, spacing: float) -> None:
        if spacing < 0:
            raise ValueError("request spacing must not be negative")
        self.spacing = spacing
        self._free_at = 0.0  # time.monotonic() from which the next request may start
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this request's turn, then hold it until the request is over."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._free_at)
            self._free_at = start + self.spacing  # a second caller waits behind this one
        if start > now:
            time.sleep(start - now)
        try:
            yield
        finally:
            with self._lock:
                self._free_at = max(self._free_at, time.monotonic() + self.spacing)
