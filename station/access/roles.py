"""Roles and the permission table: which role may do which action (the table is ``PERMISSIONS``).

>>> allowed("qa", "records.export")
True
>>> require(Operator("B0042", "operator"), "unit.wipe")
Traceback (most recent call last):
station.core.errors.PermissionDenied: permission denied: B0042 (role operator) may not unit.wipe
"""

from __future__ import annotations

from collections.abc import Mapping

from station.core.errors import AccessError, PermissionDenied
from station.core.operator import Operator

ROLES = ("operator", "qa", "rma", "admin")

ACTIONS: Mapping[str, str] = {
    "mode.production": "run production (provision new units)",
    "mode.readers": "run the SpringCard readers mode",
    "mode.qa": "run QA checks",
    "mode.rma": "run RMA (returned units)",
    "unit.wipe": "wipe a unit",
    "label.reprint": "reprint a label",
    "records.export": "export records",
    "audit.view": "view the station audit log",
    "config.change": "change the station configuration",
    "keys.manage": "manage station keys",
    "users.manage": "manage operator accounts",
    "data.elsewhere": "open other data than a production station's own (--data, --store)",
}

PERMISSIONS: Mapping[str, frozenset[str]] = {
    "operator": frozenset({"mode.production", "mode.readers", "label.reprint"}),
    "qa": frozenset({"mode.qa", "label.reprint", "records.export", "audit.view"}),
    "rma": frozenset({"mode.rma", "mode.qa", "unit.wipe", "label.reprint", "records.export", "audit.view"}),
    "admin": frozenset(ACTIONS),
}


def check_action(action: str) -> None:
    """Refuse an action name that is not in the table (a typo would otherwise deny silently)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")


def allowed(role: str, action: str) -> bool:
    """True when ``role`` may do ``action``; an unknown role may nothing."""
    check_action(action)
    return action in PERMISSIONS.get(role, frozenset())


def require(operator: Operator | None, action: str) -> None:
    """Return if ``operator`` may do ``action``; otherwise raise PermissionDenied naming who and what."""
    if operator is None:
        check_action(action)
        raise PermissionDenied(None, None, action)
    if not allowed(operator.role, action):
        raise PermissionDenied(operator.id, operator.role, action)


def check_role(role: str) -> str:
    """``role`` if it is one of ROLES; otherwise an AccessError naming the choices."""
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return role
