"""Error statuses 400/404/405/410/422 over HTTP, their client exceptions, and the check order of §11.11."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pytest
import requests

from station.devices.springcore.client import CompanionClient
from station.devices.springcore.errors import (
    ReaderBadRequest,
    ReaderBusy,
    ReaderGone,
    ReaderRejected,
    ReaderRestarting,
    ReaderUnsupported,
)
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from tests.sim.companion.conftest import StartService, client_for

TIMEOUT = 10


def config_url(service: SimulatedCompanion, index: int = 0) -> str:
    return f"{service.url}/device/{service.readers[index].device_id}/config"


# --- each status ------------------------------------------------------------------------------------------


def test_404_for_unknown_routes(service: SimulatedCompanion) -> None:
    device_id = service.readers[0].device_id
    for path in ("/", "/nope", "/devices/", f"/device/{device_id}/ui", f"/device/{device_id}/config/x"):
        response = requests.get(service.url + path, timeout=TIMEOUT)
        assert response.status_code == 404, path
        assert response.json()["Result"] == "error"


def test_405_for_get_config_with_allow(service: SimulatedCompanion) -> None:
    response = requests.get(config_url(service), timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "PUT, DELETE"  # no full read-back (§11.12)
    assert requests.post(f"{service.url}/devices", timeout=TIMEOUT).headers["Allow"] == "GET"


def test_client_maps_405_and_404(service: SimulatedCompanion, client: CompanionClient) -> None:
    with pytest.raises(ReaderUnsupported) as caught:
        client._call("GET", f"/device/{service.readers[0].device_id}/config")
    assert caught.value.status == 405
    with pytest.raises(ReaderUnsupported):
        client._call("GET", "/service")


def test_410_for_an_unknown_device(service: SimulatedCompanion, client: CompanionClient) -> None:
    for call in (client.device, client.wink, client.reset, client.get_specific):
        with pytest.raises(ReaderGone) as caught:
            call("AAAAAAAAAAAAAAAAAAAAAA")
        assert caught.value.status == 410
        assert caught.value.service_message == "no such device"


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"not json"])
def test_400_for_a_body_that_is_not_utf8_json(service: SimulatedCompanion, body: bytes) -> None:
    for url in (config_url(service), config_url(service) + "/specific"):
        response = requests.put(url, data=body, timeout=TIMEOUT)
        assert response.status_code == 400
        assert "json rule" in response.json()["Message"]


def test_400_for_a_bad_specific_value(service: SimulatedCompanion) -> None:
    for query in ("?specific=keep", "?specific=preserve&specific=discard"):
        assert requests.put(config_url(service) + query, json={}, timeout=TIMEOUT).status_code == 400
        assert requests.delete(config_url(service) + query, timeout=TIMEOUT).status_code == 400


def test_client_maps_400(service: SimulatedCompanion, client: CompanionClient) -> None:
    with pytest.raises(ReaderBadRequest) as caught:
        client._call(
            "PUT", f"/device/{service.readers[0].device_id}/config", query={"specific": "keep"}, body={}
        )
    assert "specific" in (caught.value.service_message or "")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "body breaks the form rule"),  # JSON, but not an object (§11.7)
        ({"0201": 5}, "register 0201"),
        ({"0230": "0102"}, "register 0230"),
        ({"0222": ""}, "register 0222"),
        ({"config": {"01": ""}, "0202": ""}, "form rule"),
    ],
)
def test_422_names_the_problem(
    service: SimulatedCompanion, client: CompanionClient, body: object, words: str
) -> None:
    response = requests.put(config_url(service), json=body, timeout=TIMEOUT)
    assert response.status_code == 422
    assert words in response.json()["Message"]
    if isinstance(body, dict):
        with pytest.raises(ReaderRejected) as caught:
            client.put_config(service.readers[0].device_id, body)
        assert words in str(caught.value)
        assert caught.value.service_message is not None and words in caught.value.service_message
    assert service.readers[0].registers == {}  # nothing of a rejected request is written


def test_422_for_duplicate_json_keys(service: SimulatedCompanion) -> None:
    response = requests.put(config_url(service), data=b'{"0201": "", "0201": "AA"}', timeout=TIMEOUT)
    assert response.status_code == 422
    assert "duplicate" in response.json()["Message"]


def test_a_422_message_never_carries_the_value(service: SimulatedCompanion) -> None:
    response = requests.put(config_url(service), json={"02FF.s": "topsecret-password!"}, timeout=TIMEOUT)
    assert response.status_code == 422
    assert "topsecret" not in response.text


# --- check order: 404, 405, 410, 503, 400, 422, 409 -------------------------------------------------------


def test_404_before_405(service: SimulatedCompanion) -> None:
    assert requests.delete(f"{service.url}/device/x/config/nope", timeout=TIMEOUT).status_code == 404


def test_405_before_410(service: SimulatedCompanion) -> None:
    assert requests.get(f"{service.url}/device/unknown/config", timeout=TIMEOUT).status_code == 405


def test_410_before_400(service: SimulatedCompanion) -> None:
    response = requests.put(f"{service.url}/device/unknown/config?specific=bad", data=b"{", timeout=TIMEOUT)
    assert response.status_code == 410


def test_503_before_400(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, pre_restart=0.0, restart=1.0))
    requests.post(
        f"{service.url}/device/{service.readers[0].device_id}/reset", timeout=TIMEOUT
    ).raise_for_status()
    response = requests.put(config_url(service) + "?specific=bad", data=b"{", timeout=TIMEOUT)
    assert response.status_code == 503


def test_400_before_422(service: SimulatedCompanion) -> None:
    response = requests.put(config_url(service) + "?specific=bad", json={"0222": ""}, timeout=TIMEOUT)
    assert response.status_code == 400


def test_422_before_409_and_409_last(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, write=math.inf))
    client = client_for(service)
    reader = service.readers[0]
    writer = threading.Thread(target=client.put_config, args=(reader.device_id, {"0230": "01"}))
    writer.start()
    try:
        assert reader.wait_busy(timeout=TIMEOUT)
        assert requests.put(config_url(service), json={"0222": ""}, timeout=TIMEOUT).status_code == 422
        assert requests.put(config_url(service), data=b"{", timeout=TIMEOUT).status_code == 400
        with pytest.raises(ReaderBusy):
            client.put_config(reader.device_id, {"0230": "02"})
    finally:
        reader.release()
        writer.join(TIMEOUT)
    assert reader.registers[0x0230] == b"\x01"


def test_client_exception_for_503_carries_retry_after(start_service: StartService) -> None:
    service = start_service(timing=replace(FAST, pre_restart=0.0, restart=1.0))
    client = client_for(service)
    client.reset(service.readers[0].device_id)
    with pytest.raises(ReaderRestarting) as caught:
        client.device(service.readers[0].device_id, busy_within=0)  # no second try: the clock is manual
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 503
