"""Fault plans on the Companion simulator, and what the station's client makes of each fault."""

from __future__ import annotations

import pytest
import requests

from station.core.errors import DeviceProtocolError, DeviceTimeout, DeviceUnreachable
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.errors import ReaderGone, ReaderServiceFailure
from station.sim.companion.service import SimulatedCompanion
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.faults import FaultRule, parse_spec
from tests.sim.companion.conftest import StartService, client_for


def test_drop_is_unreachable(service: SimulatedCompanion, client: CompanionClient) -> None:
    service.faults.add(FaultRule("drop", times=1))
    with pytest.raises(DeviceUnreachable):
        client.devices()
    assert len(client.devices()) == 2  # times=1


def test_delay_past_the_timeout_is_a_timeout(service: SimulatedCompanion) -> None:
    service.faults.add(FaultRule("delay", seconds=0.5, times=1))
    with pytest.raises(DeviceTimeout):
        client_for(service, timeout=0.1).devices()


def test_500_is_a_service_failure_without_a_message(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    service.faults.add(FaultRule("500", path="/device/*", method="PUT"))
    device_id = service.readers[0].device_id
    with pytest.raises(ReaderServiceFailure) as caught:
        client.put_config(device_id, {})
    assert caught.value.status == 500
    assert caught.value.service_message is None
    config_id = client.device(device_id).config_id
    assert config_id is not None and config_id.startswith("00000000")  # nothing was written


def test_garbage_is_a_protocol_error(service: SimulatedCompanion, client: CompanionClient) -> None:
    service.faults.add(FaultRule("garbage", path="/devices"))
    with pytest.raises(DeviceProtocolError) as caught:
        client.devices()
    assert "not JSON" in str(caught.value)
    assert caught.value.status == 200


def test_stall_does_the_work_then_answers_late(service: SimulatedCompanion) -> None:
    device_id = service.readers[0].device_id
    service.faults.add(FaultRule("stall", seconds=0.5, path="*/config", times=1))
    with pytest.raises(DeviceTimeout):
        client_for(service, timeout=0.1).put_config(device_id, {"0230": "01"})
    assert service.readers[0].registers[0x0230] == b"\x01"  # written although the client never heard


def test_unplug_removes_the_reader_named_by_the_request(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    gone, kept = service.readers
    service.faults.add(FaultRule("unplug", path=f"/device/{gone.device_id}/*", times=1))
    with pytest.raises(DeviceUnreachable):
        client.put_config(gone.device_id, {})
    with pytest.raises(ReaderGone):
        client.device(gone.device_id)  # later: 410
    assert [d.device_id for d in client.devices()] == [kept.device_id]


def test_unplug_with_replug_brings_a_fresh_reader(
    service: SimulatedCompanion, client: CompanionClient, manual_time: ManualTime
) -> None:
    gone = service.readers[0]
    service.faults.add(FaultRule("unplug", path="/device/*", times=1, replug_after=5.0))
    with pytest.raises(DeviceUnreachable):
        client.wink(gone.device_id)
    assert len(client.devices()) == 1
    manual_time.advance(5.0)
    ids = [d.device_id for d in client.devices()]
    assert len(ids) == 2 and gone.device_id not in ids


def test_unplug_on_devices_only_drops(service: SimulatedCompanion, client: CompanionClient) -> None:
    service.faults.add(FaultRule("unplug", path="/devices", times=1))
    with pytest.raises(DeviceUnreachable):
        client.devices()
    assert len(client.devices()) == 2


def test_a_spec_plan_with_seed_is_reproducible(start_service: StartService) -> None:
    def outcomes() -> list[int]:
        service = start_service(faults=parse_spec("seed=5; 500 p=0.5"))
        return [requests.get(service.url + "/devices", timeout=10).status_code for _ in range(12)]

    first = outcomes()
    assert first == outcomes()
    assert {200, 500} == set(first)


def test_faults_are_reported(start_service: StartService) -> None:
    seen: list[tuple[str, str, str]] = []
    service = start_service(on_fault=lambda rule, method, path: seen.append((rule.kind, method, path)))
    service.faults.add(FaultRule("500", times=1))
    requests.get(service.url + "/devices", timeout=10)
    assert seen == [("500", "GET", "/devices")]
