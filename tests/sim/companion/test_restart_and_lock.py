"""The restart sequence after writes and resets (§11.10, §11.13), the per-reader lock (§11.11), and
wait_until_back.

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
from station.devices.springcore.errors import ReaderBusy, ReaderGone, ReaderRestarting
from station.devices.springcore.replies import ZERO_GUID
from station.devices.springcore.waiting import WaitCancelled, wait_until_back
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from station.sim.ppa.clock import ManualTime
from tests.sim.companion.conftest import StartService, client_for

TIMEOUT = 10
# A restart in round figures (the realistic sequence: 0.5 s as before, 2.5 s 503, 1 s re-enumerating)
LEAVE, RESTART, REENUMERATE = 0.5, 2.0, 1.0
BACK = LEAVE + RESTART + REENUMERATE


@pytest.fixture
def restarting_service(start_service: StartService) -> SimulatedCompanion:
    timing = replace(FAST, pre_restart=LEAVE, restart=RESTART, reenumerate=REENUMERATE)
    return start_service(timing=timing)


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


def listed(client: CompanionClient) -> list[str]:
    return [d.device_id for d in client.devices()]


# --- the restart sequence (decision §11.13) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "new_config"),
    [
        (lambda c, i: c.put_config(i, {"0230": "01"}), True),
        (lambda c, i: c.delete_config(i), True),
        (lambda c, i: c.reset(i), False),
    ],
    ids=["put-config", "delete-config", "reset"],
)
def test_a_reader_answers_as_before_then_restarts_then_re_enumerates_then_is_back(
    restarting_service: SimulatedCompanion,
    rclient: CompanionClient,
    manual_time: ManualTime,
    write: Callable[[CompanionClient, str], Any],
    new_config: bool,
) -> None:
    reader, other = restarting_service.readers
    rclient.put_config(reader.device_id, {"0231": "0001"})  # a first configuration to compare with
    manual_time.advance(BACK)
    old = rclient.device(reader.device_id).config_id
    written = write(rclient, reader.device_id)

    # leaving: still listed, still "ok", still the old ConfigId; a write meanwhile is 409
    assert listed(rclient) == [reader.device_id, other.device_id]
    assert rclient.device(reader.device_id).config_id == old
    with pytest.raises(ReaderBusy):
        rclient.wink(reader.device_id)
    manual_time.advance(LEAVE)

    # restarting: not listed, 503 with the rest of the restart as Retry-After
    assert listed(rclient) == [other.device_id]
    for call in (rclient.get_specific, rclient.wink):
        with pytest.raises(ReaderRestarting) as caught:
            call(reader.device_id)
        assert caught.value.retry_after == RESTART
    with pytest.raises(ReaderRestarting):
        rclient.device(reader.device_id, busy_within=0)
    rclient.device(other.device_id)  # the other reader is not affected
    manual_time.advance(RESTART - 0.5)
    with pytest.raises(ReaderRestarting) as caught:
        rclient.device(reader.device_id, busy_within=0)
    assert caught.value.retry_after == 1.0  # 0.5 s left, in whole seconds

    # re-enumerating: unknown to the service
    manual_time.advance(0.5)
    assert listed(rclient) == [other.device_id]
    with pytest.raises(ReaderGone):
        rclient.device(reader.device_id)

    # back: the same DeviceId, now listing the configuration written
    manual_time.advance(REENUMERATE)
    assert listed(rclient) == [reader.device_id, other.device_id]
    back = rclient.device(reader.device_id)
    assert back.ready
    assert back.config_id == (written if new_config else old)
    assert reader.restarts == 2


def test_a_write_that_restarts_nothing_keeps_the_reported_config_id(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    """DEVICE.ConfigId is register 0200 as the reader started with it (decision §11.14)."""
    device_id = restarting_service.readers[0].device_id
    rclient.put_specific(device_id, {"0200": "11" * 16})
    assert rclient.device(device_id).config_id == ZERO_GUID
    rclient.reset(device_id)
    manual_time.advance(BACK)
    assert rclient.device(device_id).config_id == "11111111-1111-1111-1111-111111111111"


def test_503_has_retry_after_and_an_error_object(restarting_service: SimulatedCompanion) -> None:
    device_id = restarting_service.readers[0].device_id
    requests.post(f"{restarting_service.url}/device/{device_id}/reset", timeout=TIMEOUT).raise_for_status()
    restarting_service.monotonic.advance(LEAVE)  # type: ignore[attr-defined]
    response = requests.get(f"{restarting_service.url}/device/{device_id}", timeout=TIMEOUT)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["Result"] == "error"


def test_put_specific_does_not_restart(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.put_specific(device_id, {"0201.s": "A-1"})
    assert rclient.device(device_id).ready
    rclient.put_specific(device_id, {"0202.s": "B-2"})  # no 409: nothing is about to restart


# --- wait_until_back ----------------------------------------------------------------------------------------


def test_the_premature_ok_is_not_taken_the_written_config_id_is(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    reader = restarting_service.readers[0]
    began = manual_time()
    config_id = rclient.put_config(reader.device_id, {"0201.s": "A-1"})
    premature = rclient.device(reader.device_id)
    assert premature.ready and premature.config_id != config_id  # the "ok" a first-ok wait took
    clock = AdvancingEvent(manual_time, 0.1)
    device = wait_until_back(
        rclient, reader.device_id, config_id=config_id, within=30, cancel=clock, monotonic=manual_time
    )
    assert device.config_id == config_id
    assert manual_time() - began >= BACK - 1e-9  # through the whole restart, not before it
    assert clock.waits == pytest.approx(BACK / 0.1, abs=1)  # and not much after: polled every 0.1 s


def test_after_a_reset_the_wait_needs_to_see_the_reader_gone_first(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id
    began = manual_time()
    rclient.reset(device_id)
    assert rclient.device(device_id).ready  # a first-ok wait would stop here
    clock = AdvancingEvent(manual_time, 0.1)
    device = wait_until_back(
        rclient, device_id, config_id=None, within=30, cancel=clock, monotonic=manual_time
    )
    assert device.ready and manual_time() - began >= BACK - 1e-9


def test_a_reader_that_never_restarts_ends_in_a_timeout_naming_the_deadline(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id  # no reset was sent: it stays up
    clock = AdvancingEvent(manual_time, 0.1)
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(rclient, device_id, config_id=None, within=1.5, cancel=clock, monotonic=manual_time)
    text = str(caught.value)
    assert "within the 1.5 s restart deadline" in text and "not yet seen restarting" in text


def test_a_reader_back_with_another_config_id_is_not_taken(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.reset(device_id)  # restarts, but keeps the ConfigId it has
    clock = AdvancingEvent(manual_time, 0.1)
    wanted = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(rclient, device_id, config_id=wanted, within=6, cancel=clock, monotonic=manual_time)
    text = str(caught.value)
    assert f"with ConfigId {wanted} within the 6 s restart deadline" in text
    assert f"back after the restart with ConfigId {ZERO_GUID}, not the {wanted} written" in text


def test_wait_until_back_times_out_naming_what_it_saw(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    device_id = restarting_service.readers[0].device_id
    config_id = rclient.put_config(device_id, {"0201.s": "A-1"})
    clock = AdvancingEvent(manual_time, 0.1)
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(
            rclient, device_id, config_id=config_id, within=1.0, cancel=clock, monotonic=manual_time
        )
    assert "restarting (503, Retry-After" in str(caught.value)
    assert device_id in str(caught.value) and "1 s restart deadline" in str(caught.value)


def test_wait_until_back_is_cancellable(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    rclient.reset(device_id)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WaitCancelled):
        wait_until_back(rclient, device_id, config_id=None, within=60, cancel=cancel)


def test_wait_until_back_keeps_waiting_through_410(
    restarting_service: SimulatedCompanion, rclient: CompanionClient, manual_time: ManualTime
) -> None:
    """A reader re-enumerating is unknown for a moment; here it never comes back: a timeout, not 410."""
    reader = restarting_service.readers[0]
    restarting_service.remove_reader(reader.device_id)
    clock = AdvancingEvent(manual_time, 0.1)
    with pytest.raises(DeviceTimeout) as caught:
        wait_until_back(
            rclient, reader.device_id, config_id=None, within=0.3, cancel=clock, monotonic=manual_time
        )
    assert "410" in str(caught.value)


def test_wait_until_back_raises_when_the_service_is_gone(
    restarting_service: SimulatedCompanion, rclient: CompanionClient
) -> None:
    device_id = restarting_service.readers[0].device_id
    restarting_service.stop()
    with pytest.raises(DeviceUnreachable):
        wait_until_back(rclient, device_id, config_id=None, within=60)


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


def test_a_second_write_meanwhile_gets_409_reads_do_not(
    start_service: StartService, manual_time: ManualTime
) -> None:
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
    manual_time.advance(FAST.restart_total())  # the write restarted it
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
