"""SD-card disks as USB mass storage (reference §9): unlock read-write or read-only, lock.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))             # not personalised: the disks stay locked
>>> get = Request("GET", "/api/storage/unlock", "", {}, b"", "http")
>>> unlock(unit, get, None).status, lock(unit, get, None).status       # 409 before the token check
(409, 409)
"""

from __future__ import annotations

import re

from station.sim.ppa.auth import EXT, U, request_bearer
from station.sim.ppa.http import Request, Response, empty
from station.sim.ppa.routes.logger import refusal
from station.sim.ppa.routes.system import format_progress
from station.sim.ppa.routes.table import route
from station.sim.ppa.unit import Unit

SCOPES = ("storage:disk",)
DISK_SCOPE = re.compile(r"storage:disk(?P<disk>[0-9]*)(?P<rw>:rw)?")
DISKS = 2


def unlock(dev: Unit, req: Request, match: re.Match[str]) -> Response:
    """Expose the scope's disk to the USB host, read-write or read-only."""
    refused = _refusal(dev, req)
    if refused is not None:
        return refused
    disk, writable = _scope_disk(dev, req)
    wanted = match["mode"]
    if disk is None or (wanted == "rw" and not writable):
        return empty(406)
    dev.boot.disk_modes[disk] = "rw" if writable and wanted != "ro" else "ro"
    return empty(200)


def lock(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Hide the scope's disk (or both, with the bare ``storage:disk`` scope) from the USB host."""
    refused = _refusal(dev, req)
    if refused is not None:
        return refused
    bearer = request_bearer(dev, req)
    if bearer is not None and bearer.scope == "storage:disk":
        dev.boot.disk_modes[:] = ["-"] * DISKS
        return empty(200)
    disk, _writable = _scope_disk(dev, req)
    if disk is None:
        return empty(406)
    dev.boot.disk_modes[disk] = "-"
    return empty(200)


def _refusal(dev: Unit, req: Request) -> Response | None:
    refused = refusal(dev, req, SCOPES, (U, EXT))
    if refused is None and format_progress(dev) not in (None, "done"):
        return empty(409)
    return refused


def _scope_disk(dev: Unit, req: Request) -> tuple[int | None, bool]:
    """(disk index or None when the scope names no valid disk, whether ``:rw`` was granted)."""
    bearer = request_bearer(dev, req)
    found = DISK_SCOPE.fullmatch(bearer.scope) if bearer is not None else None
    if found is None or not found["disk"] or int(found["disk"]) >= DISKS:
        return None, False
    return int(found["disk"]), found["rw"] is not None


ROUTES = [
    route("GET", r"/api/storage/unlock(?:/(?P<mode>rw|ro))?", unlock),
    route("GET", r"/api/storage/lock", lock),
]
