"""``CompanionClient``: the station's typed client of the SpringCard Companion Service REST API.

>>> client = CompanionClient.at("http://127.0.0.1:3998", timeout=5)
>>> client.put_config("../admin", {"config": {}})          # an id that is not URL-safe: nothing is sent
Traceback (most recent call last):
ValueError: not a Companion DeviceId: '../admin'
>>> device_path("vkYkoELRDS3p9xhQO1lx8a", "/config/specific")
'/device/vkYkoELRDS3p9xhQO1lx8a/config/specific'
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Literal

from station.devices.springcore.configdata import ConfigData
from station.devices.springcore.failures import reader_error
from station.devices.springcore.replies import (
    DEVICE_ID,
    Device,
    check_success,
    parse_config_guid,
    parse_devices,
    parse_object,
    parse_registers,
)
from station.devices.transport import Reply, TlsPin, Transport

log = logging.getLogger(__name__)

Specific = Literal["preserve", "discard"]
Body = ConfigData | Mapping[str, Any]

DEVICES = "/devices"


class CompanionClient:
    """Typed calls to one Companion Service through its ``Transport``.

    ``timeout`` is each request's wall-clock limit, connect and whole reply (``devices/transport.py``).
    """

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.transport = transport
        self.timeout = timeout

    @classmethod
    def at(cls, base_url: str, *, timeout: float = 10.0, tls: TlsPin | None = None) -> CompanionClient:
        """A client of the service at ``base_url`` on a plain transport."""
        return CompanionClient(
            Transport.plain(base_url, tls=tls, what="Companion Service URL"), timeout=timeout
        )

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    # --- devices (reference §2, §4) ------------------------------------------------------------------

    def devices(self) -> tuple[Device, ...]:
        """Every reader the service sees and that is not restarting, in the service's order."""
        return parse_devices("GET", DEVICES, self._call("GET", DEVICES).content)

    def device(self, device_id: str) -> Device:
        path = device_path(device_id)
        return Device.parse(parse_object("GET", path, self._call("GET", path).content))

    def wink(self, device_id: str) -> None:
        """A short light/sound sequence, so the operator can tell which reader is which."""
        self._success("POST", device_path(device_id, "/wink"))

    def reset(self, device_id: str) -> None:
        """Restart the reader (it is gone for a moment; see ``waiting.wait_until_back``)."""
        self._success("POST", device_path(device_id, "/reset"))

    # --- configuration (reference §3) ------------------------------------------------------------------

    def put_config(self, device_id: str, body: Body, *, specific: Specific = "preserve") -> str:
        """Write a whole configuration (registers left out go back to default), then the reader restarts.

        ``specific="preserve"`` (our default, not the service's) keeps the reader's own device-specific
        values (inventory data, IP settings, passwords); returns the new ConfigId.
        """
        path = device_path(device_id, "/config")
        response = self._call("PUT", path, query=_specific(specific), body=body)
        return parse_config_guid("PUT", path, response.content)

    def delete_config(self, device_id: str, *, specific: Specific = "preserve") -> str:
        """Back to factory defaults (certificates and secure-element keys stay), then a restart."""
        path = device_path(device_id, "/config")
        response = self._call("DELETE", path, query=_specific(specific))
        return parse_config_guid("DELETE", path, response.content)

    def get_specific(self, device_id: str) -> Mapping[int, bytes]:
        """The freely readable device-specific registers that are set (passwords never are readable)."""
        path = device_path(device_id, "/config/specific")
        return parse_registers("GET", path, self._call("GET", path).content)

    def put_specific(self, device_id: str, body: Body) -> None:
        """Write device-specific registers only; no restart (call ``reset`` to apply them now)."""
        self._success("PUT", device_path(device_id, "/config/specific"), body=body)

    # --- transport ---------------------------------------------------------------------------------------

    def _success(self, method: str, path: str, *, body: Body | None = None) -> None:
        check_success(method, path, self._call(method, path, body=body).content)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Body | None = None,
    ) -> Reply:
        """One request; any status but 200, or any I/O failure, raises."""
        headers, data = {"Accept": "application/json"}, None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = _encode(body)
        started = time.monotonic()
        response = self.transport.request(
            method, path, query=query, body=data, headers=headers, timeout=self.timeout
        )
        log.debug("%s %s -> %d in %.3f s", method, path, response.status_code, time.monotonic() - started)
        if response.status_code != 200:
            raise reader_error(method, path, response)
        return response


def device_path(device_id: str, tail: str = "") -> str:
    """``/device/{id}{tail}``; an id that is not URL-safe is refused before anything is sent."""
    if not DEVICE_ID.fullmatch(device_id):
        raise ValueError(f"not a Companion DeviceId: {device_id[:70]!r}")
    return f"/device/{device_id}{tail}"


def _specific(specific: str) -> dict[str, str]:
    if specific not in ("preserve", "discard"):
        raise ValueError(f"specific must be 'preserve' or 'discard', not {specific!r}")
    return {"specific": specific}


def _encode(body: Body) -> bytes:
    if isinstance(body, ConfigData):
        return body.canonical_json()
    return json.dumps(dict(body), separators=(",", ":")).encode("utf-8")
