"""The simulated unit's route table, assembled from one module per API area.

Each module exposes ``ROUTES``: a list of ``Route(method, pattern, handler, cost)`` (``table.py``).
``pattern`` is a full-match regular expression over the path; ``cost`` names the timing class
(``timing.py``) that delays the reply. A handler is ``handler(unit, request, match) -> Response``.
"""

from __future__ import annotations

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
from station.sim.ppa.routes.table import Handler, Route, route

__all__ = ["Handler", "Route", "all_routes", "route"]


def all_routes() -> list[Route]:
    """Every route of every area, in matching order."""
    modules = (system, checkin, attestation, auth, config, logger, upgrade, storage, keymgmt)
    return [r for module in modules for r in module.ROUTES]
