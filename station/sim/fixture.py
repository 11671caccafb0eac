"""The ``simulated`` fixture kind: an in-process simulated PPA per slot, for demos and development stations.

After each verdict the slot's 'operator' plugs in a fresh unit (a new identity), so a demo keeps
producing units. Refused by production configurations (``config.py``), and every record made on such a
slot is marked ``simulated``.
"""

from __future__ import annotations

from station.config import FixtureConfig
from station.fixtures.base import Fixture, StatusProbe
from station.fixtures.network import UrlLink
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.timing import profile


class FreshUnitSwap:
    """Swaps the unit after a verdict and stops the simulated unit when the station closes."""

    def __init__(self, device: SimulatedPpa) -> None:
        self.device = device

    def release(self) -> None:
        self.device.replug(new_unit=True)

    def close(self) -> None:
        self.device.stop()


def create(config: FixtureConfig, *, backend_key: bytes, timing: str, slot_index: int) -> Fixture:
    device = SimulatedPpa(backend_key=backend_key, slot=slot_index, timing=profile(timing)).start()
    link = UrlLink(device.http_url)
    return Fixture(
        config.slot, f"sim:{slot_index}", link, StatusProbe(link), FreshUnitSwap(device), simulated=True
    )
