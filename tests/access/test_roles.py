"""The permission table as documented in roles.py, and PermissionDenied naming who, role and action."""

from __future__ import annotations

import pytest

from station.access.roles import ACTIONS, PERMISSIONS, ROLES, allowed, check_role, require
from station.core.errors import AccessError, PermissionDenied, StationError
from station.core.operator import Operator

# The table of roles.py, written out again: a change to either must be deliberate.
TABLE = {
    "mode.production": {"operator", "admin"},
    "mode.readers": {"operator", "admin"},
    "mode.qa": {"qa", "rma", "admin"},
    "mode.rma": {"rma", "admin"},
    "unit.wipe": {"rma", "admin"},
    "label.reprint": {"operator", "qa", "rma", "admin"},
    "records.export": {"qa", "rma", "admin"},
    "audit.view": {"qa", "rma", "admin"},
    "config.change": {"admin"},
    "keys.manage": {"admin"},
    "users.manage": {"admin"},
    "data.elsewhere": {"admin"},
}


def test_the_table_is_the_documented_one() -> None:
    assert set(ACTIONS) == set(TABLE)
    assert set(PERMISSIONS) == set(ROLES) == {"operator", "qa", "rma", "admin"}
    for action, roles in TABLE.items():
        assert {role for role in ROLES if allowed(role, action)} == roles, action


def test_an_operator_may_not_wipe_a_unit_and_the_error_says_who_and_what() -> None:
    with pytest.raises(PermissionDenied) as refused:
        require(Operator("B0042", "operator"), "unit.wipe")
    assert isinstance(refused.value, StationError)
    assert str(refused.value) == "permission denied: B0042 (role operator) may not unit.wipe"
    assert (refused.value.operator_id, refused.value.role, refused.value.action) == (
        "B0042",
        "operator",
        "unit.wipe",
    )


def test_only_an_admin_changes_configuration_or_keys() -> None:
    for role in ("operator", "qa", "rma"):
        for action in ("config.change", "keys.manage", "users.manage"):
            with pytest.raises(PermissionDenied):
                require(Operator("x1", role), action)
    require(Operator("a1", "admin"), "config.change")
    require(Operator("a1", "admin"), "keys.manage")


def test_nobody_logged_in_may_nothing() -> None:
    with pytest.raises(PermissionDenied, match=r"nobody is logged in may not mode\.production"):
        require(None, "mode.production")


def test_an_unknown_role_may_nothing_and_an_unknown_action_is_a_bug() -> None:
    assert not allowed("superuser", "mode.qa")
    with pytest.raises(PermissionDenied):
        require(Operator("x", "superuser"), "mode.qa")
    with pytest.raises(ValueError, match=r"unknown action 'unit\.wipeout'"):
        require(Operator("a1", "admin"), "unit.wipeout")
    with pytest.raises(AccessError, match="unknown role 'boss'; one of operator, qa, rma, admin"):
        check_role("boss")
