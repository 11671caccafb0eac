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
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from station.devices.springcore.configdata import ConfigData
from station.devices.springcore.errors import ReaderRestarting, WaitCancelled
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
from station.devices.transport import Reply, TlsPin, Transport, current_deadline

log = logging.getLogger(__name__)

Specific = Literal["preserve", "discard"]
Body = ConfigData | Mapping[str, Any]

DEVICES = "/devices"

# A 503 (the service starting or stopping, a reader restarting; reference §7) has processed nothing
# (decision §11.11 checks 503 before the request is read), so every call, a write included, is sent
# again after the service's Retry-After, each pause bounded, until the busy deadline.
BUSY_DEADLINE = 30.0  # seconds of 503 answers one call waits out before giving up
RETRY_AFTER_CAP = 10.0  # seconds: the longest pause a Retry-After may ask for between two tries
RETRY_AFTER_DEFAULT = 1.0  # seconds, when a 503 carries no readable Retry-After
RETRY_AFTER_FLOOR = 0.1  # seconds: "Retry-After: 0" or a past date must not become a busy loop
LAST_TRY_MARGIN = 0.01  # seconds: a last try this close to the deadline is not worth sending


class CompanionClient:
    """Typed calls to one Companion Service through its ``Transport``.

    ``timeout`` is each request's wall-clock limit, connect and whole reply (``devices/transport.py``).
    ``busy_deadline`` is how long one call keeps answering 503 with another try (honouring Retry-After)
    before it raises ``ReaderRestarting`` naming that deadline; the thread's ``call_deadline`` (a
    pipeline step's) ends it sooner. ``cancel``, when set, ends such a pause with ``WaitCancelled``.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        timeout: float = 10.0,
        busy_deadline: float = BUSY_DEADLINE,
        cancel: threading.Event | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if busy_deadline < 0:
            raise ValueError("busy_deadline must not be negative")
        self.transport = transport
        self.timeout = timeout
        self.busy_deadline = busy_deadline
        self.cancel = cancel if cancel is not None else threading.Event()
        self.monotonic = monotonic

    @classmethod
    def at(
        cls,
        base_url: str,
        *,
        timeout: float = 10.0,
        tls: TlsPin | None = None,
        busy_deadline: float = BUSY_DEADLINE,
    ) -> CompanionClient:
        """A client of the service at ``base_url`` on a plain transport."""
        transport = Transport.plain(base_url, tls=tls, what="Companion Service URL")
        return CompanionClient(transport, timeout=timeout, busy_deadline=busy_deadline)

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    # --- devices (reference §2, §4) ------------------------------------------------------------------

    def devices(self) -> tuple[Device, ...]:
        """Every reader the service sees and that is not restarting, in the service's order."""
        return parse_devices("GET", DEVICES, self._call("GET", DEVICES).content)

    def device(self, device_id: str, *, busy_within: float | None = None) -> Device:
        """One reader's DEVICE; ``busy_within=0`` raises the first 503 (for callers that poll anyway)."""
        path = device_path(device_id)
        reply = self._call("GET", path, busy_within=busy_within)
        return Device.parse(parse_object("GET", path, reply.content))

    def wink(self, device_id: str) -> None:
        """A short light/sound sequence, so the operator can tell which reader is which."""
        self._success("POST", device_path(device_id, "/wink"))

    def reset(self, device_id: str) -> None:
        """Restart the reader (it answers a moment longer, then is gone; see ``waiting.wait_until_back``)."""
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
        busy_within: float | None = None,
    ) -> Reply:
        """One call: a 503 is tried again after its Retry-After until the busy deadline; any other status
        but 200, or any I/O failure, raises."""
        headers, data = {"Accept": "application/json"}, None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = _encode(body)
        began = self.monotonic()
        limit = self.busy_deadline if busy_within is None else busy_within
        which = "busy deadline"
        step_end = current_deadline()  # a pipeline step's end (time.monotonic()): no pause outlasts it
        if step_end is not None and step_end - time.monotonic() < limit:
            limit, which = max(0.0, step_end - time.monotonic()), "deadline left to this step"
        while True:
            response = self._once(method, path, query, data, headers)
            if response.status_code == 200:
                return response
            error = reader_error(method, path, response)
            if not isinstance(error, ReaderRestarting) or busy_within == 0:
                raise error
            waited = self.monotonic() - began
            pause = _pause(error.retry_after)
            if waited + pause > limit:  # the last try falls on the busy deadline; none at a step's end
                pause = limit - waited if which == "busy deadline" else 0.0
            if pause < LAST_TRY_MARGIN:
                raise _gave_up(error, waited, f"the {limit:.3g} s {which}")
            log.debug("%s %s -> 503; trying again in %.2f s", method, path, pause)
            if self.cancel.wait(pause):
                raise WaitCancelled(f"{method} {path}: waiting out a busy Companion Service was cancelled")

    def _once(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        data: bytes | None,
        headers: dict[str, str],
    ) -> Reply:
        started = time.monotonic()
        response = self.transport.request(
            method, path, query=query, body=data, headers=headers, timeout=self.timeout
        )
        log.debug("%s %s -> %d in %.3f s", method, path, response.status_code, time.monotonic() - started)
        return response


def _pause(hint: float | None) -> float:
    """The pause before the next try: the service's Retry-After, bounded both ways."""
    seconds = RETRY_AFTER_DEFAULT if hint is None else hint
    return min(max(seconds, RETRY_AFTER_FLOOR), RETRY_AFTER_CAP)


def _gave_up(error: ReaderRestarting, waited: float, deadline: str) -> ReaderRestarting:
    """The last 503, its message naming the deadline that ended the retries."""
    hint = "none" if error.retry_after is None else f"{error.retry_after:g} s"
    message = (
        f"{error}; still 503 after {waited:.1f} s of tries honouring Retry-After (last: {hint}): "
        f"gave up at {deadline}"
    )
    return ReaderRestarting(
        message,
        endpoint=error.endpoint,
        status=error.status,
        service_message=error.service_message,
        error_code=error.error_code,
        retry_after=error.retry_after,
    )


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
