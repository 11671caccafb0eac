"""The 409 of the storage format: while the disks format after personalisation, the routes the vendor's
OpenAPI document answers with its ``Conflict`` response ("software install or disk format in progress")
refuse with 409; status, version, check-in, token login, self-test and upgrades go on answering, and
``auth/init`` answers a personalised unit's 406 (already personalised) first.

>>> [bool(BUSY_ROUTES.fullmatch(path)) for path in ("/api/logger/key", "/api/system/status")]
[True, False]
"""

from __future__ import annotations

import re

from station.sim.ppa.http import Request, Response, empty
from station.sim.ppa.routes.system import format_progress
from station.sim.ppa.unit import Unit

BUSY_ROUTES = re.compile(
    r"/api/(auth/ext/.+|system/config/attestation|keymgmt/.+|crypto/.+|storage/.+|logger/.+)"
)
CONFIG = "/api/system/config"


def format_refusal(dev: Unit, request: Request) -> Response | None:
    """409 for a marked route while the format runs; None otherwise (the route answers)."""
    marked = BUSY_ROUTES.fullmatch(request.path) or (request.method, request.path) == ("POST", CONFIG)
    if marked and format_progress(dev) not in (None, "done"):
        return empty(409)
    return None
