"""Fixtures: a simulated Companion Service on 127.0.0.1 (manual clock) and the station's client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from station.devices.springcore.client import CompanionClient
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from station.sim.ppa.clock import ManualTime

StartService = Callable[..., SimulatedCompanion]
# Register and route semantics, one request after another on a clock that does not move: a restart that
# is over at once. The restart sequence itself (FAST's, scaled from realistic) is tested with its timing
# in test_restart_and_lock.py and over the station's flow in tests/pipeline/test_readers.py.
INSTANT_RESTART = replace(FAST, name="instant-restart", pre_restart=0.0, restart=0.0, reenumerate=0.0)


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
    """Two fresh readers, fast timing with a restart that is over at once (register semantics)."""
    return start_service(timing=INSTANT_RESTART)


@pytest.fixture
def client(service: SimulatedCompanion) -> CompanionClient:
    return client_for(service)


def client_for(service: SimulatedCompanion, timeout: float = 10) -> CompanionClient:
    """The station's client; a 503 raises at once (busy deadline 0): the service's clock is manual here,
    so waiting out a Retry-After in real time would never see it end. Retries: test_busy_retry.py."""
    return CompanionClient.at(service.url, timeout=timeout, busy_deadline=0)
