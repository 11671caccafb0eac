"""The simulated unit's route table, assembled from one module per API area.

>>> [(route.method, route.pattern.pattern, route.cost) for route in all_routes()][:2]
[('GET', '/api/system/status', 'simple'), ('GET', '/api/system/version', 'simple')]
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
