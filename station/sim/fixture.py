"""The ``simulated`` fixture kind: an in-process simulated unit per slot, for demos and development stations.

>>> from station.core.config import FixtureConfig
>>> slot = factory(FixtureConfig(slot="A1", kind="simulated"), FixtureContext(backend_key=bytes(32)), 0)
>>> slot.port, slot.simulated, slot.presence.present()      # a simulated PPA, served on 127.0.0.1
('sim:0', True, True)
>>> slot.swap.release(); slot.close()                       # after a verdict a fresh unit; then stopped
"""

from __future__ import annotations

from station.core.config import FixtureConfig
from station.fixtures.base import Fixture, StatusProbe
from station.fixtures.companion import ReaderHub, ReaderHubs, ReaderLink, ReaderPresence
from station.fixtures.network import UrlLink
from station.fixtures.registry import FixtureContext
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import profile as reader_timing
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.timing import profile

FAMILIES = ("ppa", "reader")  # the devices a simulated slot can hold (``family = ...``)


class FreshUnitSwap:
    """Swaps the unit after a verdict and stops the simulated unit when the station closes."""

    def __init__(self, device: SimulatedPpa) -> None:
        self.device = device

    def release(self) -> None:
        self.device.replug(new_unit=True)

    def close(self) -> None:
        self.device.stop()


def create(
    config: FixtureConfig, *, backend_key: bytes, timing: str, slot_index: int, spacing: float = 0.0
) -> Fixture:
    device = SimulatedPpa(backend_key=backend_key, slot=slot_index, timing=profile(timing)).start()
    link = UrlLink(device.http_url, spacing=spacing)
    return Fixture(
        config.slot, f"sim:{slot_index}", link, StatusProbe(link), FreshUnitSwap(device), simulated=True
    )


COMPANION = "simulated-companion"  # the key of the shared service in FixtureContext.shared


class FreshReaderSwap:
    """After a verdict: unplug the slot's reader and plug in a fresh one; stops the service at close."""

    def __init__(self, service: SimulatedCompanion, hub: ReaderHub, slot: str) -> None:
        self.service, self.hub, self.slot = service, hub, slot

    def release(self) -> None:
        done = self.hub.device_id(self.slot)
        self.hub.forget(self.slot)
        self.service.remove_reader(done)
        self.service.add_reader()

    def close(self) -> None:
        self.service.stop()  # idempotent: every reader slot of the station closes the one service


def create_reader(
    config: FixtureConfig, hubs: ReaderHubs, shared: dict[str, object], *, timing: str
) -> Fixture:
    """A reader slot on the station's simulated Companion Service (started with the first such slot)."""
    service = shared.get(COMPANION)
    if not isinstance(service, SimulatedCompanion):
        service = SimulatedCompanion(timing=reader_timing(timing)).start()
        shared[COMPANION] = service
    service.add_reader()
    hub = hubs.hub(service.url)
    return Fixture(
        config.slot,
        f"sim-reader:{config.slot}",
        ReaderLink(hub, config.slot),
        ReaderPresence(hub, config.slot),
        FreshReaderSwap(service, hub, config.slot),
        simulated=True,
    )


def check(config: FixtureConfig, context: FixtureContext, index: int) -> None:
    """A simulated slot holds a simulated PPA or a simulated SpringCard reader."""
    if config.family not in FAMILIES:
        message = f"unknown device family {config.family!r}; choose one of {', '.join(FAMILIES)}"
        raise context.refuse(index, "family", message)


def factory(config: FixtureConfig, context: FixtureContext, index: int) -> Fixture:
    """The registry's factory of the ``simulated`` kind."""
    if config.family == "reader":
        return create_reader(config, context.readers, context.shared, timing=context.timing)
    fast = profile(context.timing).name.startswith("fast")  # instant replies: no load to spread
    spacing = context.spacing(fast_simulator=fast)
    return create(
        config, backend_key=context.backend_key, timing=context.timing, slot_index=index, spacing=spacing
    )
