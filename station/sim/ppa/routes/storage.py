"""SD-card disks as USB mass storage (reference §9): unlock read-write or read-only, lock.

Which disk, and whether it may be written, come from the token's scope, never from the URL:
``storage:disk<N>`` (read-only) or ``storage:disk<N>:rw`` with N 0 (plain Disk0) or 1 (encrypted Disk1).
The effect is what the host would see, and what status ``storage`` reports (``dev.boot.disk_modes``:
``rw``, ``ro`` or ``-``); it lasts until the next boot.

Decisions where the reference is silent:

* ``GET /api/storage/unlock`` opens the disk read-write when the scope ends in ``:rw``, else read-only;
  ``/unlock/rw`` without ``:rw`` is 406; ``/unlock/ro`` is always read-only.
* ``/lock`` with the bare ``storage:disk`` scope locks both disks; with ``storage:disk<N>[:rw]`` only N.
  A scope naming any other disk (or none, for unlock) is 406 "invalid slot".
* Role M is refused (403): fw 1.2.2 means to deny it but reads an uninitialised pointer there.
* 409 before the token check when the unit is not personalised or ``fls_state`` is latched (as for the
  audit log); 409 after it while the disks still format after personalisation (status ``format``).
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
