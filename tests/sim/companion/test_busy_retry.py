"""A 503 is tried again after its Retry-After (seconds or an HTTP-date), each pause bounded, until a
deadline the final error names: the station's client against the simulated service, real HTTP, real time."""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from station.devices.springcore import client as client_module
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.errors import ReaderRestarting, WaitCancelled
from station.devices.springcore.failures import retry_after
from station.devices.transport import call_deadline
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST


@pytest.fixture
def service() -> Iterator[SimulatedCompanion]:
    with SimulatedCompanion(readers=1, seed=5, timing=FAST) as running:  # the real clock
        yield running


def device_id(service: SimulatedCompanion) -> str:
    return service.readers[0].device_id


def test_a_503_is_retried_after_its_retry_after_in_seconds(service: SimulatedCompanion) -> None:
    service.hold_busy(0.3, retry_after=1)
    began = time.monotonic()
    devices = CompanionClient.at(service.url).devices()
    assert [d.device_id for d in devices] == [device_id(service)]
    assert time.monotonic() - began >= 1.0  # not before the service said: one second


def test_a_503_is_retried_after_its_retry_after_as_an_http_date(service: SimulatedCompanion) -> None:
    service.hold_busy(0.3, retry_after=2, http_date=True)  # a date 2 s ahead, in whole seconds
    began = time.monotonic()
    assert CompanionClient.at(service.url).device(device_id(service)).ready
    assert time.monotonic() - began >= 1.0  # the date, less the fraction of a second it drops


def test_a_write_meeting_503_is_sent_again_and_written_once(service: SimulatedCompanion) -> None:
    service.hold_busy(0.2, retry_after=1)
    config_id = CompanionClient.at(service.url).put_config(device_id(service), {"0201.s": "A-1"})
    reader = service.readers[0]
    assert reader.restarts == 1 and reader.config_id == config_id  # a 503 had processed nothing


def test_a_503_forever_ends_at_the_busy_deadline_which_the_error_names(service: SimulatedCompanion) -> None:
    service.hold_busy(math.inf, retry_after=1)
    client = CompanionClient.at(service.url, busy_deadline=1.5)
    began = time.monotonic()
    with pytest.raises(ReaderRestarting) as caught:
        client.wink(device_id(service))
    assert time.monotonic() - began >= 1.5
    text = str(caught.value)
    assert "failed with 503" in text and "gave up at the 1.5 s busy deadline" in text
    assert "Retry-After (last: 1 s)" in text
    assert service.readers[0].winks == 0


def test_a_step_deadline_ends_the_retries_sooner(service: SimulatedCompanion) -> None:
    service.hold_busy(math.inf, retry_after=1)
    client = CompanionClient.at(service.url)  # 30 s busy deadline: the step's end comes first
    with call_deadline(time.monotonic() + 0.5), pytest.raises(ReaderRestarting) as caught:
        client.devices()
    assert "deadline left to this step" in str(caught.value)


def test_a_cancelled_pause_ends_at_once(service: SimulatedCompanion) -> None:
    service.hold_busy(math.inf, retry_after=5)
    cancel = threading.Event()
    client = CompanionClient(CompanionClient.at(service.url).transport, cancel=cancel)
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(WaitCancelled):
        client.devices()


def test_a_reader_restarting_is_waited_out_by_any_call() -> None:
    """After a reset the reader answers 503 with the rest of its restart; the next call waits it out."""
    timing = replace(FAST, pre_restart=0.0, restart=0.5, reenumerate=0.0)  # 503 at once, for 0.5 s
    with SimulatedCompanion(readers=1, seed=5, timing=timing) as service:
        client = CompanionClient.at(service.url)
        client.reset(device_id(service))
        client.put_specific(device_id(service), {"0201.s": "A-1"})  # 503 "Retry-After: 1", then written
        assert client.get_specific(device_id(service)) == {0x0201: b"A-1"}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0),  # a date in the past: now
        ("-3", None),
        ("soon", None),
        ("", None),
        ("86400", None),  # a day or more: not a hint anyone means
        (None, None),
    ],
)
def test_retry_after_is_read_in_both_forms(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_as_a_date_counts_from_now() -> None:
    now = 1_700_000_000.0
    assert retry_after(email.utils.formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7, abs=1)


def test_every_pause_is_bounded() -> None:
    pause = client_module._pause
    assert pause(3600) == client_module.RETRY_AFTER_CAP
    assert pause(0) == client_module.RETRY_AFTER_FLOOR  # "0": not a busy loop
    assert pause(None) == client_module.RETRY_AFTER_DEFAULT
