"""Audit-log access (reference §7.1-§7.3, §18.10): signing key, file list, file download.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))             # not personalised: no log reader yet
>>> key(unit, Request("GET", "/api/logger/key", "", {}, b"", "http"), None).status    # 409 before the token
409
"""

from __future__ import annotations

import re

from station.core.codec import b64decode, b64encode
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import EXT, M, U, request_subject, require
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.routes.table import route
from station.sim.ppa.unit import Unit

SCOPES = ("logger:get",)
ROLES = (U, M, EXT)
PAGE_SIZE = 128


def refusal(dev: Unit, req: Request, scopes: tuple[str, ...], roles: tuple[str, ...]) -> Response | None:
    """Checks shared with storage, in order: 418 HTTPS-only switch, 409 state, then the token (401/403)."""
    if req.scheme == "http" and dev.https_only_storage_and_logger:
        return empty(418, reason="")
    if not dev.state.initialised or dev.state.fls_state != 0:
        return empty(409)
    return require(dev, req, scopes, roles)


def key(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """The ``eid_sign`` public key, with a fresh nonce it signed to prove it holds the private half."""
    refused = refusal(dev, req, SCOPES, ROLES)
    if refused is not None:
        return refused
    nonce = dev.boot.nonces["logger"].issue(dev.clock.now(), dev.clock.monotonic())
    signer = dev.state.instance.eid_sign
    return reply(
        {
            "key": b64encode(dev.state.instance.eid_sign_public),
            "nonce": nonce,
            "nonce_signed": b64encode(signer.sign(b64decode(nonce))),
        }
    )


def listing(dev: Unit, req: Request, match: re.Match[str]) -> Response:
    """One page of file ids, oldest first; ``total`` counts every file."""
    refused = refusal(dev, req, SCOPES, ROLES)
    if refused is not None:
        return refused
    text = match["offset"]
    if text is not None and not (text.isascii() and text.isdigit()):
        return empty(406)
    offset, ids, subject = int(text or 0), dev.state.log.ids(), request_subject(dev, req)
    if offset >= len(ids):
        dev.log(Event.LOGGER_LIST_LOG, Result.FAILED, subject=subject)
        return empty(404)
    dev.log(Event.LOGGER_LIST_LOG, Result.OK, subject=subject)
    return reply({"total": len(ids), "id": ids[offset : offset + PAGE_SIZE]})


def read(dev: Unit, req: Request, match: re.Match[str]) -> Response:
    """A closed file as ``text/plain``; 404 unknown, 406 the current boot's (still open) file."""
    refused = refusal(dev, req, SCOPES, ROLES)
    if refused is not None:
        return refused
    file_id, log = match["id"], dev.state.log
    name = file_id.lower()
    status = 200
    if name not in log.files:
        status = 404
    elif name == log.current_id:
        status = 406  # still being written: the firmware keeps it locked
    result = Result.OK if status == 200 else Result.FAILED
    dev.log(Event.LOGGER_READ_LOG, result, subject=request_subject(dev, req), data=file_id.encode())
    if status != 200:
        return empty(status)
    return Response(200, log.text(name).encode("utf-8"), content_type="text/plain")


ROUTES = [
    route("GET", r"/api/logger/key", key),
    route("GET", r"/api/logger/list(?:/(?P<offset>[^/]*))?", listing),
    route("GET", r"/api/logger/(?P<id>[0-9a-fA-F]{8})", read),
]
