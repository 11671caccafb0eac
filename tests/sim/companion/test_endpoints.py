"""Every simulated Companion route over real HTTP with the station's client: success paths and their data."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
import requests

from station.devices.springcore.client import CompanionClient
from station.devices.springcore.configdata import parse_config
from station.devices.springcore.errors import ReaderGone, ReaderRejected
from station.devices.springcore.replies import ZERO_GUID
from station.sim.companion.reader import ReaderModel
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from tests.sim.companion.conftest import StartService, client_for

GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
DEMO_HEX = "44656D6F2062656E63682C20522644204C6162"


def first(service: SimulatedCompanion) -> str:
    return service.readers[0].device_id


def test_devices_lists_fresh_readers_in_plug_order(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    devices = client.devices()
    assert [d.device_id for d in devices] == [r.device_id for r in service.readers]
    for device in devices:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", device.device_id)  # decision §11.3
        assert device.ready and device.binding == "pnp" and device.channel == "usb"
        assert device.config_id == ZERO_GUID and not device.configured
        assert device.vendor_id == 0x1C34 and device.serial_number and device.unique_id
    assert len({d.device_id for d in devices}) == 2


def test_device_ids_are_reproducible_with_a_seed(start_service: StartService) -> None:
    one, two = start_service(seed=3), start_service(seed=3)
    assert [r.device_id for r in one.readers] == [r.device_id for r in two.readers]


def test_device_by_id(service: SimulatedCompanion, client: CompanionClient) -> None:
    device = client.device(first(service))
    assert device.device_id == first(service)
    assert device.name == "SpringCard Puck One"


def test_wink(service: SimulatedCompanion, client: CompanionClient) -> None:
    client.wink(first(service))
    assert service.readers[0].winks == 1


def test_put_config_flat_writes_and_returns_a_fresh_guid(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    device_id = first(service)
    config_id = client.put_config(device_id, {"0201": DEMO_HEX, "02C0.i": 1})
    assert GUID.fullmatch(config_id) and config_id != ZERO_GUID
    assert client.device(device_id).config_id == config_id  # register 0200
    reader = service.reader(device_id)
    assert reader.registers[0x0201] == b"Demo bench, R&D Lab"
    assert reader.registers[0x02C0] == b"\x01"
    assert client.put_config(device_id, {"0201": DEMO_HEX}) != config_id  # a fresh GUID every write


def test_put_config_data_object(service: SimulatedCompanion, client: CompanionClient) -> None:
    config = parse_config(
        {"config": {"02.s": "Lab", "30.b": True}, "templates": {"10": "01"}, "commands": {}}
    )
    client.put_config(first(service), config)
    registers = service.readers[0].registers
    assert (registers[0x0202], registers[0x0230], registers[0x0310]) == (b"Lab", b"\x01", b"\x01")


def test_put_config_resets_registers_left_out(service: SimulatedCompanion, client: CompanionClient) -> None:
    device_id = first(service)
    client.put_config(device_id, {"0230": "01", "0310": "AA"})
    client.put_config(device_id, {"0231": "0002"})
    assert set(service.readers[0].registers) == {0x0200, 0x0231}


def test_the_other_reader_is_untouched(service: SimulatedCompanion, client: CompanionClient) -> None:
    client.put_config(first(service), {"0230": "01"})
    assert service.readers[1].registers == {}
    assert client.devices()[1].config_id == ZERO_GUID


def test_preserve_keeps_set_device_specific_registers(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    device_id = first(service)
    client.put_specific(device_id, {"0201.s": "A-1042", "02FF.s": "admin"})
    client.put_config(
        device_id, {"0201.s": "ignored", "0202.s": "written", "0230": "01"}, specific="preserve"
    )
    registers = service.readers[0].registers
    assert registers[0x0201] == b"A-1042"  # kept: it held a value (§11.9)
    assert registers[0x0202] == b"written"  # blank on the device: the request's value is written
    assert registers[0x02FF] == b"admin"  # kept although the body did not name it
    assert registers[0x0230] == b"\x01"


def test_discard_writes_the_request_and_erases_the_rest(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    device_id = first(service)
    client.put_specific(device_id, {"0201.s": "A-1042", "02FF.s": "admin"})
    client.put_config(device_id, {"0201.s": "new"}, specific="discard")
    registers = service.readers[0].registers
    assert registers[0x0201] == b"new"
    assert 0x02FF not in registers


def test_specific_query_is_case_insensitive_and_defaults_to_discard(service: SimulatedCompanion) -> None:
    device_id = first(service)
    url = f"{service.url}/device/{device_id}/config"
    requests.put(url + "/specific", json={"0201.s": "A-1"}, timeout=10).raise_for_status()
    requests.put(url + "?specific=PRESERVE", json={}, timeout=10).raise_for_status()
    assert service.readers[0].registers[0x0201] == b"A-1"
    requests.put(url + "?specific=", json={}, timeout=10).raise_for_status()  # empty: discard
    assert 0x0201 not in service.readers[0].registers
    requests.put(url + "/specific", json={"0201.s": "A-2"}, timeout=10).raise_for_status()
    requests.put(url, json={}, timeout=10).raise_for_status()  # missing: discard
    assert 0x0201 not in service.readers[0].registers


def test_a_guid_in_the_body_is_replaced_by_a_fresh_one(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    config_id = client.put_config(first(service), {"0200": "11" * 16}, specific="discard")
    assert config_id != "11111111-1111-1111-1111-111111111111"
    assert client.device(first(service)).config_id == config_id


def test_delete_config_factory_defaults_with_a_new_guid(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    device_id = first(service)
    client.put_config(device_id, {"0201.s": "A-1", "0230": "01", "02FE.s": "pw"}, specific="discard")
    config_id = client.delete_config(device_id, specific="preserve")
    assert GUID.fullmatch(config_id) and config_id != ZERO_GUID  # an out-of-factory GUID (§11.8)
    assert set(service.readers[0].registers) == {0x0200, 0x0201, 0x02FE}
    client.delete_config(device_id, specific="discard")
    assert set(service.readers[0].registers) == {0x0200}
    assert client.device(device_id).config_id != config_id


def test_get_specific_returns_readable_set_registers_only(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    device_id = first(service)
    assert client.get_specific(device_id) == {}
    client.put_config(device_id, {"0201.s": "A-1", "0280": "00" * 20, "02FE.s": "user", "0230": "01"})
    registers = client.get_specific(device_id)
    assert set(registers) == {0x0200, 0x0201, 0x0280}  # no password, no global register, no blank
    assert registers[0x0201] == b"A-1"
    raw = requests.get(f"{service.url}/device/{device_id}/config/specific", timeout=10).json()
    assert raw["0280"] == "00" * 20 and raw["0201"] == "412D31"  # 4-digit keys, uppercase hex


def test_put_specific_writes_only_what_it_names_without_new_guid_or_restart(
    start_service: StartService,
) -> None:
    service = start_service(timing=replace(FAST, restart=5.0))
    client = client_for(service)
    device_id = first(service)
    client.put_specific(device_id, {"0201.s": "A-1", "0202.s": "Bay 4"})
    client.put_specific(device_id, {"config": {"02": ""}})  # blank: erased
    assert client.device(device_id).config_id == ZERO_GUID  # still answering: no restart, no GUID
    assert service.readers[0].registers == {0x0201: b"A-1"}
    assert service.readers[0].restarts == 0


def test_put_specific_refuses_other_registers(service: SimulatedCompanion, client: CompanionClient) -> None:
    with pytest.raises(ReaderRejected) as caught:
        client.put_specific(first(service), {"0201.s": "A-1", "0230": "01"})
    assert "register 0230" in str(caught.value)
    assert service.readers[0].registers == {}  # nothing of a rejected request is written
    with pytest.raises(ReaderRejected):
        client.put_specific(first(service), {"atecc": {"00": "AA"}})


def test_reset(service: SimulatedCompanion, client: CompanionClient) -> None:
    client.reset(first(service))
    assert service.readers[0].restarts == 1
    assert client.device(first(service)).ready


def test_secure_sections_are_ignored_without_the_element_and_kept_with_it(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    body = {"config": {"01.s": "A-1"}, "atecc": {"00": "C0FFEE"}}
    client.put_config(first(service), body)
    assert service.readers[0].secure == {}
    with_element = service.add_reader(ReaderModel(characteristics=("nfc", "atecc")))
    client.put_config(with_element.device_id, body)
    assert with_element.secure == {"atecc": {0: b"\xc0\xff\xee"}}
    client.delete_config(with_element.device_id)
    assert with_element.secure == {"atecc": {0: b"\xc0\xff\xee"}}  # a factory reset keeps keys (§3.2)


def test_readers_are_added_and_removed_at_run_time(
    service: SimulatedCompanion, client: CompanionClient
) -> None:
    added = service.add_reader()
    assert [d.device_id for d in client.devices()][-1] == added.device_id
    service.remove_reader(added.device_id)
    assert added.device_id not in [d.device_id for d in client.devices()]
    with pytest.raises(ReaderGone):
        client.device(added.device_id)
    assert service.describe() == {"rest": service.url, "readers": [r.device_id for r in service.readers]}


def test_error_bodies_are_error_objects(service: SimulatedCompanion) -> None:
    response = requests.get(f"{service.url}/device/nope", timeout=10)
    assert response.status_code == 410
    assert response.json() == {"Result": "error", "Message": "no such device"}
    assert response.headers["Content-Type"] == "application/json"


def test_no_password_in_logs_errors_or_reprs(
    service: SimulatedCompanion, client: CompanionClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="station")  # whatever an earlier test set it to
    device_id = first(service)
    secret = "Sup3r-Secret-PW"
    config = parse_config({"config": {"FF.s": secret, "01.s": "A-1"}})
    client.put_config(device_id, config)
    client.put_specific(device_id, {"02FE.s": secret})
    with pytest.raises(ReaderRejected) as caught:
        client.put_specific(device_id, {"02FE.s": secret + "-much-too-long-for-16"})
    texts = [caplog.text, str(caught.value), repr(caught.value), repr(config), repr(service.readers[0])]
    texts.append(json.dumps(client.get_specific(device_id), default=repr))
    for text in texts:
        assert secret not in text
        assert secret.encode().hex().upper() not in text.upper()
    assert service.readers[0].registers[0x02FE] == secret.encode()  # it was written, all the same
    assert f"PUT /device/{device_id}/config" in caplog.text  # method and path are logged


def test_client_refuses_unsafe_ids_and_bad_arguments() -> None:
    client = CompanionClient.at("http://127.0.0.1:9")
    for bad in ("", "../devices", "a/b", "x" * 65, "id?x=1"):
        with pytest.raises(ValueError, match="DeviceId"):
            client.device(bad)
    with pytest.raises(ValueError, match="specific"):
        client.put_config("abc", {}, specific="keep")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CompanionClient.at("127.0.0.1:3998")
    with pytest.raises(ValueError):
        CompanionClient.at("http://127.0.0.1:3998", timeout=0)
