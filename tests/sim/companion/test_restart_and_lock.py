"""The restart window after writes and resets (§11.10), the per-reader lock (§11.11), and wait_until_back.

Time is the manual clock of ``tests/conftest.py``: a restart ends exactly when a test advances it. The
lock window is held open with ``write=math.inf`` / ``wink=math.inf`` until the test releases it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import requests

from station.core.errors import DeviceTimeout, DeviceUnreachable
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.errors import ReaderBusy, ReaderRestarting
from station.devices.springcore.waiting import WaitCancelled, wait_until_back
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from station.sim.ppa.clock import ManualTime
from tests.sim.companion.conftest import StartService, client_for

TIMEOUT = 10
RESTART = 0.3


@pytest.fixture
def restarting_service(start_service: StartService) -> SimulatedCompanion:
    return start_service(timing=replace(FAST, restart=RESTART))


@pytest.fixture
def rclient(restarting_service: SimulatedCompanion) -> CompanionClient:
    return client_for(restarting_service)


class AdvancingEvent(threading.Event):
    """A cancel event whose waits move the manual clock instead of sleeping (counts the waits)."""

    def __init__(self, clock: ManualTime, step: float) -> None:
        super().__init__()
        self.clock, self.step, self.waits = clock, step, 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        self.clock.advance(self.step)
        return self.is_set()


# --- restart window ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda c, i: c.put_config(i, {"0230": "01"}),
        lambda c, i: c.delete_config(i),
        lambda c, i: c.reset(i),
    ],
    ids=["put-config", "delete-config", "reset"],
)
def test_a_reader_restarts_after_writes_and_resets(
    restarting_service: SimulatedCompanion,
    rclient: CompanionClient,
    manual_time: ManualTime,
    write: Callable[[CompanionClient, str], Any],
) -> None:
    reader, other = restarting_service.readers
    write(rclient, reader.device_id)
    assert [d.device_id for d in rclient.devices()] == [other.device_id]  # missing from /devices
    for call in (rclient.device, rclient.get_specific, rclient.wink):
        with pytest.raises(ReaderRestarting) as caught:
            call(reader.device_id)
        assert caught.value.retry_after == 1.0
    rclient.device(other.device_id)  # the other reader is not affected
    manual_time.advance(RESTART)
    assert [d.device_id for d in rclient.devices()] == [reader.device_id, other.device_id]  # same DeviceId
    assert rclient.device(reader.device_id).ready


def test_503_has_retry_after_and_an_error_object(restarting_service: SimulatedCompanion) -> None:
    device_id = restarting_service.readers[0].device_id
    requests.post(f"{restarting_service.url}/device/{device_id}/reset", timeout=TIMEOUT).raise_for_status()
    response = requests.get(f"{restarting_service.url}/device/{device_id}", timeout=TIMEOUT)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["Result"] == "error"


def test_put_specific_does_not_restart(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.put_specific(device_id, {"0201.s": "A-1"})
    assert rclient.device(device_id).ready


# --- wait_until_back --------------------------------------------------------------------------------------


def test_wait_until_back_returns_the_device_once_the_restart_is_over(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id
    config_id = rclient.put_config(device_id, {"0201.s": "A-1"})
    clock = AdvancingEvent(manual_time, 0.1)
    device = wait_until_back(rclient, device_id, within=5, cancel=clock, monotonic=manual_time)
    assert device.config_id == config_id
    assert clock.waits == 3  # 503 at +0, +0.1, +0.2; back at +0.3


def test_wait_until_back_times_out(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.reset(device_id)
    clock = AdvancingEvent(manual_time, 0.1)
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(rclient, device_id, within=0.2, cancel=clock, monotonic=manual_time)
    assert "restarting (503)" in str(caught.value)
    assert device_id in str(caught.value)


def test_wait_until_back_is_cancellable(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.reset(device_id)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WaitCancelled):
        wait_until_back(rclient, device_id, within=60, cancel=cancel)


def test_wait_until_back_keeps_waiting_through_410(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    """A reader re-enumerating may be unknown for a moment; here it never comes back: a timeout, not 410."""
    reader = restarting_service.readers[0]
    restarting_service.remove_reader(reader.device_id)
    clock = AdvancingEvent(manual_time, 0.1)
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(rclient, reader.device_id, within=0.3, cancel=clock, monotonic=manual_time)
    assert "410" in str(caught.value)


def test_wait_until_back_raises_when_the_service_is_gone(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    restarting_service.stop()
    with pytest.raises(DeviceUnreachable):
        wait_until_back(rclient, device_id, within=60)


# --- the per-reader lock ----------------------------------------------------------------------------------


def held_write(
    service: SimulatedCompanion, client: CompanionClient, body: dict[str, str]
) -> threading.Thread:
    """Start a write that holds its reader's lock until the test releases it; return once it holds it."""
    reader = service.readers[0]
    thread = threading.Thread(target=client.put_config, args=(reader.device_id, body), daemon=True)
    thread.start()
    assert reader.wait_busy(timeout=TIMEOUT)
    return thread


def test_a_second_write_meanwhile_gets_409_reads_do_not(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, write=math.inf))
    client = client_for(service)
    reader, other = service.readers
    writer = held_write(service, client, {"0230": "01"})
    try:
        for write in (
            lambda: client.put_config(reader.device_id, {}),
            lambda: client.delete_config(reader.device_id),
            lambda: client.put_specific(reader.device_id, {}),
            lambda: client.reset(reader.device_id),
            lambda: client.wink(reader.device_id),
        ):
            with pytest.raises(ReaderBusy) as caught:
                write()
            assert caught.value.status == 409
        assert client.device(reader.device_id).ready  # reads never get 409
        assert client.get_specific(reader.device_id) == {}
        assert reader.device_id in [d.device_id for d in client.devices()]
        client.wink(other.device_id)  # another reader's lock is its own (wink window: 0)
    finally:
        reader.release()
        writer.join(TIMEOUT)
    assert not reader.busy
    assert reader.registers[0x0230] == b"\x01"
    client.wink(reader.device_id)  # free again


def test_a_wink_holds_the_lock(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, wink=math.inf, write=math.inf))
    client = client_for(service)
    reader = service.readers[0]
    winker = threading.Thread(target=client.wink, args=(reader.device_id,), daemon=True)
    winker.start()
    try:
        assert reader.wait_busy(timeout=TIMEOUT)
        with pytest.raises(ReaderBusy):
            client.put_config(reader.device_id, {})
    finally:
        reader.release()
        winker.join(TIMEOUT)
    assert reader.winks == 1


def test_unplugged_during_a_held_write_answers_499(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, write=math.inf))
    reader = service.readers[0]
    url = f"{service.url}/device/{reader.device_id}/config"
    answers: list[requests.Response] = []
    writer = threading.Thread(target=lambda: answers.append(requests.put(url, json={}, timeout=TIMEOUT)))
    writer.start()
    assert reader.wait_busy(timeout=TIMEOUT)
    service.remove_reader(reader.device_id)  # also ends the held window
    writer.join(TIMEOUT)
    assert answers[0].status_code == 499
    assert requests.get(url[: -len("/config")], timeout=TIMEOUT).status_code == 410
