"""Wait until a restarted reader is back: it lists the ConfigId written, or, after a reset, answers again.

>>> class Unplugged:                                    # a service that no longer lists the reader
...     def device(self, device_id, busy_within=None): raise ReaderGone("410", status=410)
>>> wait_until_back(Unplugged(), "vkYk", config_id=None, within=0.05, interval=0.01)
Traceback (most recent call last):
station.core.errors.DeviceTimeout: reader vkYk did not come back from its restart within the 0.05 s ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from station.core.errors import DeviceTimeout
from station.devices.springcore.client import device_path
from station.devices.springcore.errors import ReaderGone, ReaderRestarting, WaitCancelled
from station.devices.springcore.replies import Device

__all__ = ["WaitCancelled", "wait_until_back"]


class DeviceReader(Protocol):
    """What the wait needs of ``CompanionClient``."""

    def device(self, device_id: str, *, busy_within: float | None = None) -> Device: ...


@dataclass(frozen=True)
class _Seen:
    device: Device | None  # the DEVICE when the reader answered with Status "ok"
    gone: bool  # a sign the old start ended: 503, 410 or a Status other than "ok"
    words: str


def wait_until_back(
    client: DeviceReader,
    device_id: str,
    *,
    config_id: str | None,
    within: float,
    cancel: threading.Event | None = None,
    interval: float = 0.1,
    monotonic: Callable[[], float] = time.monotonic,
) -> Device:
    """The reader's DEVICE once its restart is over; DeviceTimeout naming the deadline after ``within`` s.

    A reader answers a moment longer as before (decision §11.13), so the first "ok" proves nothing.
    ``config_id``: the ConfigId a configuration write returned; the restart is over when the reader
    reports it with Status "ok". None (after a reset): over when the reader answers "ok" after it was
    seen gone. The wait polls every ``interval`` seconds: a 503's Retry-After is whole seconds, coarser
    than a restart, and the service is local. A failure to reach the service itself passes through.
    """
    if within <= 0 or interval <= 0:
        raise ValueError("within and interval must be positive")
    stop = cancel if cancel is not None else threading.Event()
    wanted = None if config_id is None else config_id.upper()
    deadline = monotonic() + within
    gone = False
    while True:
        seen = _probe(client, device_id)
        gone = gone or seen.gone
        words = seen.words
        if seen.device is not None:
            reported = (seen.device.config_id or "").upper()
            if (wanted is None and gone) or (wanted is not None and reported == wanted):
                return seen.device
            words = _not_yet(seen.device, wanted, gone)
        remaining = deadline - monotonic()
        if remaining <= 0:
            target = "" if wanted is None else f" with ConfigId {wanted}"
            raise DeviceTimeout(
                f"reader {device_id} did not come back from its restart{target} within the {within:g} s "
                f"restart deadline (last seen: {words})",
                endpoint=device_path(device_id),
            )
        if stop.wait(min(interval, remaining)):
            raise WaitCancelled(f"waiting for reader {device_id} was cancelled")


def _probe(client: DeviceReader, device_id: str) -> _Seen:
    """One look at the reader: its DEVICE when it answers with Status "ok", else a sign it is gone."""
    try:
        device = client.device(device_id, busy_within=0)
    except ReaderRestarting as exc:
        hint = "" if exc.retry_after is None else f", Retry-After {exc.retry_after:g} s"
        return _Seen(None, True, f"restarting (503{hint})")
    except ReaderGone:
        return _Seen(None, True, "not listed (410): re-enumerating or unplugged")
    if device.status != "ok":
        return _Seen(None, True, f"Status {device.status!r}")
    return _Seen(device, False, "Status 'ok'")


def _not_yet(device: Device, wanted: str | None, gone: bool) -> str:
    """Why an answering reader is not back from this restart, in words."""
    if wanted is None:
        return "Status 'ok' from before the restart: not yet seen restarting"
    if gone:
        return f"back after the restart with ConfigId {device.config_id}, not the {wanted} written"
    return f"Status 'ok' with the old ConfigId {device.config_id}: not restarted yet"
