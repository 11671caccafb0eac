"""Shared fixtures: simulated units on 127.0.0.1 with a test check-in backend key and a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from station.core.codec import x25519_public_key
from station.devices.transport import reset_abort
from station.sim import install as install_simulation
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.edgeserver import edge  # noqa: F401 - the edge-server fixture, shared
from tests.pgserver import line_url, pg_admin, station_role  # noqa: F401 - PostgreSQL fixtures, shared

BACKEND_PRIVATE = bytes(range(100, 132))


@pytest.fixture(autouse=True, scope="session")
def simulation() -> None:
    """Tests build stations on simulated fixtures, as the demo does: the ``simulated`` kind is registered
    the way the entry points register it (``tests/fixtures/test_registry.py`` checks a build without it)."""
    install_simulation()


@pytest.fixture(autouse=True)
def _requests_work_again() -> Iterator[None]:
    """A station stopped in a test aborts every request of the process (``Station.stop``); the next
    test starts with requests working, whatever the last one left behind."""
    yield
    reset_abort()


@pytest.fixture
def backend_private() -> bytes:
    """Raw X25519 private key of the test check-in backend that simulated units trust."""
    return BACKEND_PRIVATE


@pytest.fixture
def manual_time() -> ManualTime:
    """The units' monotonic source: moves only when a test calls ``advance``."""
    return ManualTime()


@pytest.fixture
def unit(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    """One fresh simulated PPA (fast timing) trusting the test backend."""
    with SimulatedPpa(backend_key=x25519_public_key(BACKEND_PRIVATE), monotonic=manual_time) as device:
        yield device
