"""The operator session: permission checks through the role table, every refusal in the audit log."""

from __future__ import annotations

import pytest

from station.access.audit import read_audit
from station.access.pins import Pin
from station.access.session import OperatorSession
from station.core.errors import LoginRefused, PermissionDenied
from station.core.operator import Operator
from tests.access.conftest import ADMIN_PIN, OPERATOR_PIN


def test_an_operator_trying_to_wipe_a_unit_is_refused_and_the_refusal_is_audited(
    session: OperatorSession, admin: Operator
) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    with pytest.raises(PermissionDenied, match=r"B0042 \(role operator\) may not unit.wipe"):
        session.require("unit.wipe", {"devid": "2023b758c209269a"})
    entry = read_audit(session.audit.store)[-1]
    assert (entry.actor_id, entry.actor_role, entry.action, entry.outcome) == (
        "B0042",
        "operator",
        "permission-refused",
        "refused",
    )
    assert entry.detail == {"action": "unit.wipe", "face": "gui", "devid": "2023b758c209269a"}


def test_allowed_answers_without_writing(session: OperatorSession, admin: Operator) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    before = len(read_audit(session.audit.store))
    assert session.allowed("mode.production") and not session.allowed("unit.wipe")
    assert len(read_audit(session.audit.store)) == before


def test_nobody_logged_in_is_refused_everything(session: OperatorSession, admin: Operator) -> None:
    assert session.operator is None and not session.allowed("mode.production")
    with pytest.raises(PermissionDenied, match="nobody is logged in"):
        session.change_mode("production")
    entry = read_audit(session.audit.store)[-1]
    assert (entry.actor_id, entry.action, entry.detail["action"]) == (
        None,
        "permission-refused",
        "mode.production",
    )


def test_mode_changes_are_checked_and_audited(session: OperatorSession, admin: Operator) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    session.change_mode("production")
    with pytest.raises(PermissionDenied):
        session.change_mode("rma")
    assert session.mode == "production"
    mode_entries = [entry for entry in read_audit(session.audit.store) if entry.action == "mode-change"]
    assert [entry.detail for entry in mode_entries] == [{"from": None, "to": "production", "face": "gui"}]


def test_reprints_key_and_config_operations_are_checked_and_audited(
    session: OperatorSession, admin: Operator
) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    session.perform("label-reprint", {"devid": "2023b758c209269a"})
    with pytest.raises(PermissionDenied, match=r"may not keys\.manage"):
        session.perform("key-operation", {"operation": "export"})
    session.login("A0001", Pin(ADMIN_PIN))
    session.perform("config-change", {"file": "station.toml"})
    tail = [(entry.actor_id, entry.action, entry.outcome) for entry in read_audit(session.audit.store)]
    assert tail[-5:] == [
        ("B0042", "label-reprint", "ok"),
        ("B0042", "permission-refused", "refused"),
        ("A0001", "login", "ok"),  # the new login first: a refused badge would not end the old session
        ("B0042", "logout", "ok"),
        ("A0001", "config-change", "ok"),
    ]


def test_a_failed_login_keeps_the_previous_operator(session: OperatorSession, admin: Operator) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    with pytest.raises(LoginRefused):
        session.login("A0001", Pin("111112"))
    assert session.operator == Operator("B0042", "operator")
    session.logout()
    assert session.operator is None and session.mode is None
    assert read_audit(session.audit.store)[-1].action == "logout"


def test_a_login_whose_account_was_disabled_since_is_refused(
    session: OperatorSession, admin: Operator
) -> None:
    session.login("B0042", Pin(OPERATOR_PIN))
    session.users.disable("B0042", by=admin)  # e.g. from the command line, while the window is open
    with pytest.raises(
        PermissionDenied, match=r"may not mode\.production: the account is disabled or has changed"
    ):
        session.change_mode("production")
    assert read_audit(session.audit.store)[-1].action == "permission-refused"
