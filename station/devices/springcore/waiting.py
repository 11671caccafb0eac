"""Wait until a restarted reader is back: after ``put_config``, ``delete_config`` and ``reset``.

>>> class Unplugged:                                    # a service that no longer lists the reader
...     def device(self, device_id): raise ReaderGone(f"GET /device/{device_id} refused with 410", status=410)
>>> wait_until_back(Unplugged(), "vkYk", within=0.05, interval=0.01)        # 503 and 410 mean "not yet"
Traceback (most recent call last):
station.core.errors.DeviceTimeout: reader vkYk was not back within 0.05 s (last seen: not listed (410))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from station.core.errors import DeviceTimeout
from station.devices.springcore.client import CompanionClient, device_path
from station.devices.springcore.errors import ReaderGone, ReaderRestarting
from station.devices.springcore.replies import Device


class WaitCancelled(Exception):
    """The wait was cancelled through its event (the pipeline turns this into its own ``Cancelled``)."""


def wait_until_back(
    client: CompanionClient,
    device_id: str,
    *,
    within: float,
    cancel: threading.Event | None = None,
    interval: float = 0.1,
    monotonic: Callable[[], float] = time.monotonic,
) -> Device:
    """The reader's DEVICE once it answers with Status ``ok``; DeviceTimeout after ``within`` seconds."""
    if within <= 0 or interval <= 0:
        raise ValueError("within and interval must be positive")
    stop = cancel if cancel is not None else threading.Event()
    deadline = monotonic() + within
    while True:
        device, last = _probe(client, device_id)
        if device is not None:
            return device
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise DeviceTimeout(
                f"reader {device_id} was not back within {within:g} s (last seen: {last})",
                endpoint=device_path(device_id),
            )
        if stop.wait(min(interval, remaining)):
            raise WaitCancelled(f"waiting for reader {device_id} was cancelled")


def _probe(client: CompanionClient, device_id: str) -> tuple[Device | None, str]:
    """(the DEVICE if it is back, else None; what was seen, in words)."""
    try:
        device = client.device(device_id)
    except ReaderRestarting:
        return None, "restarting (503)"
    except ReaderGone:
        return None, "not listed (410)"
    if device.status != "ok":
        return None, f"Status {device.status!r}"
    return device, "ok"
