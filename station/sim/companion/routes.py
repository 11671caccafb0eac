"""Routes of the simulated Companion Service, in the check order of decision §11.11.

>>> from station.sim.companion.service import SimulatedCompanion
>>> service = SimulatedCompanion(readers=1)                  # not started: dispatch is a plain function
>>> [dispatch(service, Request(method, path, "", {}, b"", "http")).status for method, path in
...     [("GET", "/devices"), ("POST", "/devices"), ("GET", "/device/unplugged"), ("GET", "/nowhere")]]
[200, 405, 410, 404]
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from station.core.errors import ConfigDataError
from station.devices.springcore.configdata import ConfigData, load_body, parse_config, parse_specific
from station.sim.companion.reader import Phase, SimulatedReader
from station.sim.companion.timing import CompanionTiming
from station.sim.ppa.http import Request, Response


class ReaderService(Protocol):
    """The service as its routes see it (``service.SimulatedCompanion`` implements it): no import cycle."""

    timing: CompanionTiming

    def device_list(self) -> list[dict[str, Any]]: ...

    def lookup(self, device_id: str) -> tuple[SimulatedReader | None, Phase, float]: ...

    def new_guid(self) -> str: ...

    def locked(
        self,
        reader: SimulatedReader,
        hold: float,
        action: Callable[[], Mapping[str, Any]],
        *,
        restart: bool,
    ) -> Response: ...


Handler = Callable[[ReaderService, SimulatedReader, Request], Response]
SUCCESS = {"Result": "success"}


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, headers=dict(headers or {}))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An ERROR object (reference §7)."""
    return json_reply({"Result": "error", "Message": message}, status, headers)


def restarting(seconds_left: float = 1.0) -> Response:
    """503 for a restarting reader: Retry-After is the rest of its restart, whole seconds, at least 1."""
    return error(503, "device is restarting", {"Retry-After": str(max(1, math.ceil(seconds_left)))})


def service_busy(seconds: int, http_date: bool, wall: float) -> Response:
    """503 for the whole service (starting or stopping, reference §7), Retry-After in either form."""
    hint = email.utils.formatdate(wall + seconds, usegmt=True) if http_date else str(seconds)
    return error(503, "the service is starting", {"Retry-After": hint})


def about_to_restart() -> Response:
    """409 to a write while a reader is leaving: the restart it answered 200 for holds it (§11.13)."""
    return error(409, "device is locked: it is about to restart")


# --- handlers -----------------------------------------------------------------------------------------


def get_device(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    return json_reply(reader.device_object())


def get_specific(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    return json_reply(reader.read_specific())


def wink(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    def blink() -> dict[str, Any]:
        reader.winks += 1
        return SUCCESS

    return service.locked(reader, service.timing.wink, blink, restart=False)


def reset(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    return service.locked(reader, 0.0, lambda: SUCCESS, restart=True)


def put_config(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    preserve = _preserve(request)
    if isinstance(preserve, Response):
        return preserve
    config = _body(request, parse_config)
    if isinstance(config, Response):
        return config

    def write() -> dict[str, Any]:
        guid = service.new_guid()
        reader.write_config(config, preserve=preserve, guid=guid)
        return {**SUCCESS, "ConfigId": guid}

    return service.locked(reader, service.timing.write, write, restart=True)


def delete_config(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    preserve = _preserve(request)
    if isinstance(preserve, Response):
        return preserve

    def erase() -> dict[str, Any]:
        guid = service.new_guid()
        reader.erase_config(preserve=preserve, guid=guid)
        return {**SUCCESS, "ConfigId": guid}

    return service.locked(reader, service.timing.write, erase, restart=True)


def put_specific(service: ReaderService, reader: SimulatedReader, request: Request) -> Response:
    config = _body(request, parse_specific)
    if isinstance(config, Response):
        return config

    def write() -> dict[str, Any]:
        reader.write_specific(config)
        return SUCCESS

    return service.locked(reader, service.timing.write, write, restart=False)


# --- request checks -------------------------------------------------------------------------------------


def _preserve(request: Request) -> bool | Response:
    """``specific``: case-insensitive; missing or empty = discard; anything else is 400 (§11.9)."""
    given = parse_qs(request.query, keep_blank_values=True).get("specific", [""])
    if len(given) > 1:
        return error(400, "query parameter 'specific' given more than once")
    value = given[0].lower()
    if value not in ("", "discard", "preserve"):
        return error(400, "query parameter 'specific' must be 'preserve' or 'discard'")
    return value == "preserve"


def _body(request: Request, parse: Callable[[Any], ConfigData]) -> ConfigData | Response:
    """400 for a body that is not UTF-8 JSON; 422 for one ``configdata`` refuses (§11.7)."""
    try:
        return parse(load_body(request.body))
    except ConfigDataError as exc:
        return error(400 if exc.rule == "json" else 422, str(exc))


# --- dispatch --------------------------------------------------------------------------------------------

_ID = r"/device/(?P<id>[^/]+)"
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(_ID), {"GET": get_device}),
    (re.compile(_ID + "/wink"), {"POST": wink}),
    (re.compile(_ID + "/reset"), {"POST": reset}),
    (re.compile(_ID + "/config"), {"PUT": put_config, "DELETE": delete_config}),
    (re.compile(_ID + "/config/specific"), {"GET": get_specific, "PUT": put_specific}),
]
DEVICES = "/devices"


def dispatch(service: ReaderService, request: Request) -> Response:
    """Route ``request``; the checks before the handler are 404, 405, 410 and 503, in that order (a
    reader that re-enumerates is unknown: 410; one restarting: 503 with the rest of its restart)."""
    if request.path == DEVICES:
        if request.method != "GET":
            return error(405, "method not supported on /devices", {"Allow": "GET"})
        return json_reply(service.device_list())
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        handler = methods.get(request.method)
        if handler is None:
            allow = ", ".join(methods)
            return error(405, f"method {request.method} not supported here", {"Allow": allow})
        reader, phase, seconds_left = service.lookup(match["id"])
        if reader is None or phase is Phase.ENUMERATING:
            return error(410, "no such device")
        if phase is Phase.RESTARTING:
            return restarting(seconds_left)
        return handler(service, reader, request)
    return error(404, "no such route (or not simulated)")
