"""The station's modes as the window names them, which roles may run each, and what the operator does in it.

>>> allowed_modes("qa"), start_mode("admin", previous="rma"), TITLES["rma"]
(('qa',), 'rma', 'RMA')
>>> print(refusal(Operator("B0042", "operator"), "rma"))
B0042 (operator) may not switch to RMA: only an RMA engineer or an admin may. ...
"""

from __future__ import annotations

from station.access.roles import PERMISSIONS, allowed
from station.core.operator import Operator

MODES = ("production", "qa", "rma")
TITLES = {"production": "Production", "qa": "QA", "rma": "RMA"}
ROLE_NAMES = {"operator": "a production operator", "qa": "a QA inspector", "rma": "an RMA engineer",
              "admin": "an admin"}  # fmt: skip
GUIDES = {
    "production": "Production: insert new units; each is provisioned, recorded and labelled.",
    "qa": "QA: insert units to check; nothing is written to them, each gets a QA record.",
    "rma": (
        "RMA: insert a returned unit; the station asks for the customer's passphrase when the unit is "
        "personalised, wipes it and makes it new. Its old record is marked superseded."
    ),
}


def allowed_modes(role: str) -> tuple[str, ...]:
    """The modes ``role`` may run, in the header's order."""
    return tuple(mode for mode in MODES if allowed(role, f"mode.{mode}"))


def start_mode(role: str, previous: str | None = None) -> str | None:
    """The mode a login starts in: the previous one if the role allows it, else the role's own mode (a QA
    inspector starts in QA, an RMA engineer in RMA), else the first it allows."""
    modes = allowed_modes(role)
    for choice in (previous, role):
        if choice in modes:
            return choice
    return modes[0] if modes else None


def roles_for(mode: str) -> tuple[str, ...]:
    """The roles that may run ``mode``."""
    return tuple(role for role, actions in PERMISSIONS.items() if f"mode.{mode}" in actions)


def refusal(operator: Operator | None, mode: str) -> str:
    """Why ``operator`` cannot switch to ``mode``, and who can, in one sentence for the banner."""
    names = [ROLE_NAMES.get(role, role) for role in roles_for(mode)]
    may = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    title = TITLES.get(mode, mode)
    if operator is None:
        return f"Log in first: only {may} may run {title}."
    return (
        f"{operator.id} ({operator.role}) may not switch to {title}: only {may} may. The refusal is in "
        "the audit log; ask someone with that role to log in."
    )
