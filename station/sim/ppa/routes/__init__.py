"""The simulated unit's route table, assembled from one module per API area.

Each module exposes ``ROUTES``: a list of ``Route(method, pattern, handler, cost)``. ``pattern`` is a
full-match regular expression over the path; ``cost`` names the timing class (``timing.py``) that delays
the reply. A handler is ``handler(device, request, match) -> Response``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from station.sim.ppa.http import Request, Response

if TYPE_CHECKING:
    from station.sim.ppa.device import SimulatedPpa

Handler = Callable[["SimulatedPpa", Request, re.Match[str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    cost: str = "simple"


def route(method: str, pattern: str, handler: Handler, cost: str = "simple") -> Route:
    return Route(method, re.compile(pattern), handler, cost)


def all_routes() -> list[Route]:
    """Every route of every area, in matching order."""
    from station.sim.ppa.routes import (
        attestation,
        auth,
        checkin,
        config,
        keymgmt,
        logger,
        storage,
        system,
        upgrade,
    )

    modules = (system, checkin, attestation, auth, config, logger, upgrade, storage, keymgmt)
    return [r for module in modules for r in module.ROUTES]
