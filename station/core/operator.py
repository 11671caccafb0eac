"""Who did it: the person (or the station itself) a record and an audit entry name; public values only.

>>> Operator("B0042", "operator")        # a badge id and one of access.roles.ROLES; never a PIN or a name
Operator(id='B0042', role='operator')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """A badge id and the role it acted in."""

    id: str
    role: str
