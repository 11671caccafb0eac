"""Roles and the permission table: which role may do which action.

Example::

    require(Operator("B0042", "operator"), "mode.production")   # returns None: allowed
    require(Operator("B0042", "operator"), "unit.wipe")         # PermissionDenied naming who, role, action
    allowed("qa", "records.export")                             # True

The table (an ``x`` means allowed; admin may everything)::

    action            operator  qa  rma  admin   what it guards
    mode.production      x                 x     provisioning new units
    mode.readers         x                 x     configuring SpringCard readers (a production line mode)
    mode.qa                     x    x     x     read-only QA checks of provisioned units
    mode.rma                         x     x     returned units: identify, wipe, re-provision
    unit.wipe                        x     x     erasing a unit (RMA)
    label.reprint        x      x    x     x     printing a unit's label again (audited)
    records.export              x    x     x     exporting records off the station
    audit.view                  x    x     x     reading the station audit log in the GUI
    config.change                          x     changing station.toml / profiles
    keys.manage                            x     creating, exporting or rotating station keys
    users.manage                           x     adding, disabling, enabling accounts, resetting PINs

Why so: an operator runs the production line and may reprint a jammed label, nothing else; QA only
reads units; RMA works on returned units, which includes wiping them and checking them like QA; only
an admin touches configuration, keys and accounts. Roles are fixed strings because every record and
audit entry names one: a record's meaning must not change when the table grows.
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
