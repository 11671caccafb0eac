"""Simulators notice ``stop()`` within 10 ms in tests instead of 50-100 ms.

A simulated unit's listener (and the Companion and cloud-backend simulators') sees ``stop()`` only when
its ``select`` times out (``SHUTDOWN_POLL``): a good trade for a simulator that runs for hours, but the
suite stops about 700 units, and each stop waited out that poll, about a minute in all. Nothing else
changes: every request is served as before, only an idle listener wakes more often.

A conftest turns it on for its folder by importing the fixture (a conftest at the top of ``tests/`` would
cover every folder at once)::

    from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse
"""

from __future__ import annotations

import pytest

from station.sim import cloud
from station.sim.companion import service
from station.sim.ppa import device

POLL = 0.01  # seconds


@pytest.fixture(autouse=True)
def quick_simulator_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listeners started during the test poll every ``POLL`` seconds, so their ``stop()`` is prompt."""
    for module in (device, service, cloud):
        monkeypatch.setattr(module, "SHUTDOWN_POLL", POLL)
