"""Wait until a restarted reader is back: after ``put_config``, ``delete_config`` and ``reset``.

Example::

    config_id = client.put_config(device_id, profile)
    device = wait_until_back(client, device_id, within=10.0, cancel=run.cancel)
    assert device.config_id == config_id

A reader restarts after every configuration write (reference §3.1, decision §11.10): for a moment it is
missing from ``/devices`` and its routes answer 503; a real service may also briefly not know it (410)
while the USB device re-enumerates, or list it with a Status other than ``ok``. All three mean "not back
yet". Anything else (no service, a timeout, a malformed reply) is raised at once.

Polling is every ``interval`` seconds, not at the ``Retry-After`` the service sends: that header counts
whole seconds (1) while a restart takes about 0.3 s, and a factory line should not wait 1 s for nothing.
Waiting is on ``cancel`` (a ``threading.Event``), so an operator stop ends it at once: ``WaitCancelled``.
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
