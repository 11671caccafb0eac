"""The simulated unit as its routes and token checks see it: a protocol, so they need not import the device.

>>> from station.sim.ppa.device import SimulatedPpa
>>> members = [name for name in dir(Unit) if not name.startswith("_")] + list(Unit.__annotations__)
>>> [name for name in members if not hasattr(SimulatedPpa(backend_key=bytes(32)), name)]
[]
"""

from __future__ import annotations

from typing import Protocol

from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.clock import DeviceClock
from station.sim.ppa.faults import FaultInjector
from station.sim.ppa.http import Response
from station.sim.ppa.state import BootState, PersistentState
from station.sim.ppa.timing import TimingProfile


class Unit(Protocol):
    """What a route handler may read and do on the unit it answers for."""

    state: PersistentState  # survives reboots: identity, configuration, firmware, audit log
    boot: BootState  # lost at every boot: session keys, nonces, token key
    clock: DeviceClock
    timing: TimingProfile
    backend_key: bytes  # the check-in backend's X25519 public key the unit trusts
    vendor_key: bytes  # the firmware vendor's signing key
    faults: FaultInjector  # the unit's fault plan (conditions such as ``kat_fail`` are read by routes)
    https_only_storage_and_logger: bool

    @property
    def devid(self) -> str: ...

    def log(self, event: Event, result: Result, subject: str = "", data: bytes = b"") -> None:
        """Append one line to the unit's audit log."""

    def restart_after_reply(self, *, wipe: bool = False, install: bool = False) -> Response:
        """The empty 200 sent before the unit reboots (optionally wiped; ``install``: via the bootloader)."""

    def shut_down_after_reply(self) -> Response:
        """The empty 200 sent before the unit shuts down."""

    def unplug(self, replug_after: float | None = None) -> None:
        """The unit disappears (optionally a fresh one comes back after ``replug_after`` seconds)."""
