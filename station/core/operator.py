"""Who did it: the person (or the station itself) a record and an audit entry name.

Example::

    operator = Operator(id="B0042", role="operator")   # a badge id and one of access.roles.ROLES
    Operator("station", "operator")                    # an unattended run, named as the station

It sits in core because two layers above use it and neither owns it: ``records`` signs it into every
record's ``operator`` block, ``access`` returns it from a login and checks its role. Only public values:
a badge id and a role, never a PIN or a name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """A badge id and the role it acted in."""

    id: str
    role: str
