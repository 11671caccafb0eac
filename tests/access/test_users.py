"""Accounts: bootstrap, admin-only management, disable/enable, PIN changes, login and lockout, audited."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from station.access.audit import AuditLog, read_audit
from station.access.pins import Pin
from station.access.users import LOCKOUT, MAX_FAILED_LOGINS, UserStore
from station.core.errors import AccessError, LoginRefused, PermissionDenied
from station.core.operator import Operator
from tests.access.conftest import ADMIN_PIN, OPERATOR_PIN, ManualClock


def actions(audit: AuditLog) -> list[tuple[str | None, str, str]]:
    return [(entry.actor_id, entry.action, entry.outcome) for entry in read_audit(audit.store)]


def test_the_first_account_must_be_an_admin_and_is_audited_as_bootstrap(users: UserStore) -> None:
    assert users.needs_bootstrap()
    with pytest.raises(AccessError, match="first account on a station must be an admin"):
        users.add("B0042", "Bo", "operator", Pin(OPERATOR_PIN), by=None)
    user = users.add("A0001", "Ada Admin", "admin", Pin(ADMIN_PIN), by=None)
    assert (user.badge, user.role, user.disabled) == ("A0001", "admin", False)
    assert not users.needs_bootstrap()
    (entry,) = read_audit(users.store)
    assert (entry.actor_id, entry.actor_role, entry.action) == ("A0001", "admin", "user-add")
    assert entry.detail == {"badge": "A0001", "name": "Ada Admin", "role": "admin", "bootstrap": True}


def test_after_the_bootstrap_only_an_admin_adds_accounts(users: UserStore, admin: Operator) -> None:
    with pytest.raises(PermissionDenied, match="nobody is logged in"):
        users.add("C0001", "Cy", "qa", Pin("305918"), by=None)
    with pytest.raises(PermissionDenied, match=r"B0042 \(role operator\) may not users.manage"):
        users.add("C0001", "Cy", "qa", Pin("305918"), by=Operator("B0042", "operator"))
    assert users.get("C0001") is None
    refusals = [entry for entry in read_audit(users.store) if entry.action == "permission-refused"]
    assert [(entry.actor_id, entry.outcome, entry.detail["attempted"]) for entry in refusals] == [
        (None, "refused", "user-add"),
        ("B0042", "refused", "user-add"),
    ]


def test_list_shows_accounts_without_their_pin_hash(users: UserStore, admin: Operator) -> None:
    listed = users.list()
    assert [(user.badge, user.name, user.role) for user in listed] == [
        ("A0001", "Ada Admin", "admin"),
        ("B0042", "Bo Operator", "operator"),
    ]
    assert "scrypt" not in repr(listed)


def test_bad_badges_names_roles_and_duplicates_are_refused(users: UserStore, admin: Operator) -> None:
    with pytest.raises(AccessError, match="badge id is 1 to 64"):
        users.add("B 42", "Bo", "operator", Pin("305918"), by=admin)
    with pytest.raises(AccessError, match="display name"):
        users.add("C1", "  ", "operator", Pin("305918"), by=admin)
    with pytest.raises(AccessError, match="unknown role 'boss'"):
        users.add("C1", "Cy", "boss", Pin("305918"), by=admin)
    with pytest.raises(AccessError, match="B0042 already has an account"):
        users.add("B0042", "Bo again", "operator", Pin("305918"), by=admin)
    with pytest.raises(AccessError, match="straight run"):
        users.add("C1", "Cy", "operator", Pin("234567"), by=admin)


def test_a_disabled_account_cannot_log_in_until_enabled(users: UserStore, admin: Operator) -> None:
    assert users.disable("B0042", by=admin).disabled
    with pytest.raises(LoginRefused, match="B0042 is disabled") as refused:
        users.authenticate("B0042", Pin(OPERATOR_PIN))
    assert refused.value.reason == "disabled"
    assert not users.enable("B0042", by=admin).disabled
    assert users.authenticate("B0042", Pin(OPERATOR_PIN)) == Operator("B0042", "operator")
    assert actions(users.audit)[-4:] == [
        ("A0001", "user-disable", "ok"),
        ("B0042", "login-failed", "failed"),
        ("A0001", "user-enable", "ok"),
        ("B0042", "login", "ok"),
    ]


def test_the_last_enabled_admin_cannot_be_disabled(users: UserStore, admin: Operator) -> None:
    with pytest.raises(AccessError, match="A0001 is the last enabled admin"):
        users.disable("A0001", by=admin)
    assert not users.get("A0001").disabled  # type: ignore[union-attr]
    assert actions(users.audit)[-1] == ("A0001", "user-disable", "refused")
    users.add("A0002", "Al Admin", "admin", Pin("730164"), by=admin)
    assert users.disable("A0001", by=Operator("A0002", "admin")).disabled


def test_an_operator_may_change_only_their_own_pin(users: UserStore, admin: Operator) -> None:
    operator = Operator("B0042", "operator")
    users.set_pin("B0042", Pin("613370"), by=operator)
    assert users.authenticate("B0042", Pin("613370")) == operator
    with pytest.raises(LoginRefused):
        users.authenticate("B0042", Pin(OPERATOR_PIN))
    with pytest.raises(PermissionDenied):
        users.set_pin("A0001", Pin("613370"), by=operator)
    users.set_pin("B0042", Pin("550193"), by=admin)  # an admin resets a forgotten PIN
    assert users.authenticate("B0042", Pin("550193")) == operator


def test_login_returns_the_operator_and_audits_it(users: UserStore, admin: Operator) -> None:
    assert users.authenticate("B0042", Pin(OPERATOR_PIN), face="cli") == Operator("B0042", "operator")
    entry = read_audit(users.store)[-1]
    assert (entry.actor_id, entry.actor_role, entry.action, entry.detail) == (
        "B0042",
        "operator",
        "login",
        {"face": "cli"},
    )


def test_an_unknown_badge_is_refused_and_its_text_is_not_recorded(users: UserStore, admin: Operator) -> None:
    typed = "9051720"  # what an operator might type into the badge field: their PIN
    with pytest.raises(LoginRefused, match="no account for this badge") as refused:
        users.authenticate(typed, Pin(OPERATOR_PIN))
    assert refused.value.badge is None and typed not in str(refused.value)
    entry = read_audit(users.store)[-1]
    assert (entry.actor_id, entry.action, entry.detail) == (
        None,
        "login-failed",
        {"reason": "unknown", "face": "gui"},
    )
    assert typed not in entry.jws and all(typed not in str(value) for value in entry.detail.values())


def test_five_wrong_pins_lock_the_account_for_fifteen_minutes(
    users: UserStore, admin: Operator, clock: ManualClock
) -> None:
    assert MAX_FAILED_LOGINS == 5 and timedelta(minutes=15) == LOCKOUT
    for attempt in range(1, MAX_FAILED_LOGINS + 1):
        with pytest.raises(LoginRefused, match="wrong PIN") as refused:
            users.authenticate("B0042", Pin("111112"))
        assert refused.value.reason == "wrong-pin"
        assert users.get("B0042").failed_logins == attempt  # type: ignore[union-attr]
    assert "now locked" in str(refused.value)
    with pytest.raises(LoginRefused, match=r"locked until 2025-03-04T05:21:07\.000Z") as locked:
        users.authenticate("B0042", Pin(OPERATOR_PIN))  # even the right PIN
    assert locked.value.reason == "locked"
    clock.advance(LOCKOUT - timedelta(milliseconds=1))
    with pytest.raises(LoginRefused, match="locked"):
        users.authenticate("B0042", Pin(OPERATOR_PIN))
    clock.advance(timedelta(milliseconds=1))
    assert users.authenticate("B0042", Pin(OPERATOR_PIN)) == Operator("B0042", "operator")
    assert users.get("B0042").failed_logins == 0  # type: ignore[union-attr]
    failed = [entry for entry in read_audit(users.store) if entry.action == "login-failed"]
    assert [entry.detail["reason"] for entry in failed] == ["wrong-pin"] * 5 + ["locked"] * 2
    assert [entry.detail.get("locked") for entry in failed[:5]] == [False] * 4 + [True]


def test_after_a_lock_expires_the_next_wrong_pin_locks_again_and_an_admin_can_unlock(
    users: UserStore, admin: Operator, clock: ManualClock
) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(LoginRefused):
            users.authenticate("B0042", Pin("111112"))
    clock.advance(LOCKOUT + timedelta(seconds=1))
    with pytest.raises(LoginRefused, match="now locked"):
        users.authenticate("B0042", Pin("111112"))
    users.enable("B0042", by=admin)
    assert users.authenticate("B0042", Pin(OPERATOR_PIN)) == Operator("B0042", "operator")


def test_a_good_login_resets_the_count(users: UserStore, admin: Operator) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginRefused):
            users.authenticate("B0042", Pin("111112"))
    users.authenticate("B0042", Pin(OPERATOR_PIN))
    with pytest.raises(LoginRefused, match="4 attempts left"):
        users.authenticate("B0042", Pin("111112"))


def test_accounts_are_never_deleted_and_a_badge_never_changes(users: UserStore, admin: Operator) -> None:
    with users.store.connect() as connection:
        with pytest.raises(sqlite3.IntegrityError, match="DELETE refused"):
            connection.execute("DELETE FROM users WHERE badge = 'B0042'")
        with pytest.raises(sqlite3.IntegrityError, match="badge and created never change"):
            connection.execute("UPDATE users SET badge = 'B0043' WHERE badge = 'B0042'")


def test_an_operator_value_is_only_a_claim_the_database_decides(users: UserStore, admin: Operator) -> None:
    with pytest.raises(PermissionDenied, match="the account is disabled or has changed"):
        users.add("C0001", "Cy", "qa", Pin("305918"), by=Operator("Z9999", "admin"))
    with pytest.raises(PermissionDenied, match="the account is disabled or has changed"):
        users.disable("A0001", by=Operator("B0042", "admin"))  # B0042 is an operator
