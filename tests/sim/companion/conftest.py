"""Fixtures: a simulated Companion Service on 127.0.0.1 (manual clock) and the station's client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from station.devices.springcore.client import CompanionClient
from station.sim.companion.service import SimulatedCompanion
from station.sim.ppa.clock import ManualTime

StartService = Callable[..., SimulatedCompanion]


@pytest.fixture
def start_service(manual_time: ManualTime) -> Iterator[StartService]:
    """Start services with any options (timing, readers, faults...); all stopped at the end of the test."""
    started: list[SimulatedCompanion] = []

    def start(**options: Any) -> SimulatedCompanion:
        options.setdefault("readers", 2)
        options.setdefault("monotonic", manual_time)
        options.setdefault("seed", 7)
        service = SimulatedCompanion(**options).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def service(start_service: StartService) -> SimulatedCompanion:
    """Two fresh readers, fast timing (no restart window, no lock window)."""
    return start_service()


@pytest.fixture
def client(service: SimulatedCompanion) -> CompanionClient:
    return CompanionClient.at(service.url, timeout=10)


def client_for(service: SimulatedCompanion, timeout: float = 10) -> CompanionClient:
    return CompanionClient.at(service.url, timeout=timeout)
