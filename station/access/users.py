"""Operator accounts in the station's database: add, list, disable, enable, set a PIN, log in (with lockout).

The badge id is the operator's public name in records and the audit log; the PIN is the secret.

>>> check_badge("B 42")
Traceback (most recent call last):
station.core.errors.AccessError: a badge id is 1 to 64 letters, digits or . _ : -
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from station.access.audit import AuditLog
from station.access.pins import Pin, check_new_pin, hash_pin, verify_pin
from station.access.roles import allowed, check_role
from station.core.errors import AccessError, LoginRefused, PermissionDenied
from station.core.operator import Operator
from station.records.model import rfc3339

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_BADGE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_SELECT_ALL = (
    "SELECT badge, name, role, disabled, failed_logins, locked_until, created, updated, pin_hash "
    "FROM users ORDER BY badge"
)
_SELECT_ONE = (
    "SELECT badge, name, role, disabled, failed_logins, locked_until, created, updated, pin_hash "
    "FROM users WHERE badge = ?"
)
_INSERT = "INSERT INTO users (badge, name, role, pin_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?)"
_CHANGES = {  # audit action -> the one UPDATE it makes (parameters: updated, badge)
    "user-disable": "UPDATE users SET disabled = 1, updated = ? WHERE badge = ?",
    "user-enable": (
        "UPDATE users SET disabled = 0, failed_logins = 0, locked_until = NULL, updated = ? WHERE badge = ?"
    ),
    "user-pin-change": "UPDATE users SET failed_logins = 0, locked_until = NULL, updated = ? WHERE badge = ?",
}
_SET_PIN = "UPDATE users SET pin_hash = ? WHERE badge = ?"
_GOOD_LOGIN = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE badge = ?"
_COUNT_FAILED = "UPDATE users SET failed_logins = failed_logins + 1 WHERE badge = ? RETURNING failed_logins"
_LOCK = "UPDATE users SET locked_until = ? WHERE badge = ?"
_ENABLED_ADMINS = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0"


@dataclass(frozen=True)
class User:
    """An account as listed; the PIN hash stays in the database."""

    badge: str
    name: str
    role: str
    disabled: bool
    failed_logins: int
    locked_until: str | None
    created: str
    updated: str

    @property
    def operator(self) -> Operator:
        return Operator(self.badge, self.role)


def check_badge(badge: str) -> str:
    if not isinstance(badge, str) or not _BADGE.match(badge):
        raise AccessError("a badge id is 1 to 64 letters, digits or . _ : -")
    return badge


def check_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 80 or not name.isprintable():
        raise AccessError("a display name is 1 to 80 printable characters")
    return name


@cache
def _decoy_hash() -> str:
    """A hash to check unknown badges against, so they take as long as known ones."""
    return hash_pin(Pin("0"))


class UserStore:
    """Accounts and logins in the store of ``audit`` (one SQLite file); every change is audited."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        hasher: Callable[[Pin], str] = hash_pin,
        max_failed: int = MAX_FAILED_LOGINS,
        lockout: timedelta = LOCKOUT,
    ) -> None:
        self.audit = audit
        self.store = audit.store
        self._hasher = hasher
        self.max_failed = max_failed
        self.lockout = lockout

    def __repr__(self) -> str:
        return f"UserStore({self.store!r})"

    def list(self) -> list[User]:
        with self.store.connect() as connection:
            return [_user(row) for row in connection.execute(_SELECT_ALL).fetchall()]

    def get(self, badge: str) -> User | None:
        with self.store.connect() as connection:
            return _get(connection, badge)

    def needs_bootstrap(self) -> bool:
        """True while no enabled admin exists: then only an admin may be added, without a login."""
        with self.store.connect() as connection:
            return _enabled_admins(connection) == 0

    # --- changes -----------------------------------------------------------------------------------------

    def add(self, badge: str, name: str, role: str, pin: Pin, *, by: Operator | None) -> User:
        """A new account; ``by`` None only for the bootstrap admin."""
        badge, name, role = check_badge(badge), check_name(name), check_role(role)
        check_new_pin(pin)
        pin_hash = self._hasher(pin)  # before the transaction: scrypt must not hold the store's lock
        with self.store.write() as connection:
            refusal = _add_refusal(connection, by, role)
            if refusal is None:
                return self._insert(connection, User(badge, name, role, False, 0, None, "", ""), pin_hash, by)
        raise self._refused(by, "user-add", badge, refusal)

    def disable(self, badge: str, *, by: Operator) -> User:
        """Refuse this account's logins from now on (the last enabled admin stays)."""
        self._authorize(by, "user-disable", badge)
        with self.store.write() as connection:
            user = _existing(connection, badge)
            if user.role != "admin" or user.disabled or _enabled_admins(connection) > 1:
                return self._change(connection, badge, by, "user-disable")
            detail = {"badge": badge, "reason": "last enabled admin"}
            self.audit.append_in(connection, by, "user-disable", detail=detail, outcome="refused")
        raise AccessError(f"{badge} is the last enabled admin; add another admin first")

    def enable(self, badge: str, *, by: Operator) -> User:
        """Allow this account again and clear its failed logins and lock."""
        self._authorize(by, "user-enable", badge)
        with self.store.write() as connection:
            _existing(connection, badge)
            return self._change(connection, badge, by, "user-enable")

    def set_pin(self, badge: str, pin: Pin, *, by: Operator) -> User:
        """A new PIN for ``badge``, by an admin or by the account's own operator."""
        if by.id != badge:
            self._authorize(by, "user-pin-change", badge)
        check_new_pin(pin)
        pin_hash = self._hasher(pin)
        with self.store.write() as connection:
            _existing(connection, badge)
            connection.execute(_SET_PIN, (pin_hash, badge))
            return self._change(connection, badge, by, "user-pin-change")

    def check_current(self, operator: Operator | None, action: str) -> PermissionDenied | None:
        """Why ``operator`` may not ``action`` now (role, or account disabled or changed), or None."""
        with self.store.connect() as connection:
            return _manager_refusal(connection, operator, action)

    def _authorize(self, by: Operator, attempted: str, badge: str) -> None:
        with self.store.connect() as connection:
            refusal = _manager_refusal(connection, by)
        if refusal is not None:
            raise self._refused(by, attempted, badge, refusal)

    def _refused(self, by: Operator | None, attempted: str, badge: str, refusal: AccessError) -> AccessError:
        """Audit a permission refusal in its own transaction (the refused one was not committed)."""
        if isinstance(refusal, PermissionDenied):
            detail = {"action": refusal.action, "attempted": attempted, "badge": badge}
            self.audit.append(by, "permission-refused", detail=detail, outcome="refused")
        return refusal

    def _insert(self, connection: sqlite3.Connection, user: User, pin_hash: str, by: Operator | None) -> User:
        if _get(connection, user.badge) is not None:
            raise AccessError(f"badge {user.badge} already has an account")
        now = self.store.now()
        connection.execute(_INSERT, (user.badge, user.name, user.role, pin_hash, now, now))
        detail = {"badge": user.badge, "name": user.name, "role": user.role, "bootstrap": by is None}
        self.audit.append_in(connection, by or user.operator, "user-add", detail=detail)
        return _existing(connection, user.badge)

    def _change(self, connection: sqlite3.Connection, badge: str, by: Operator, action: str) -> User:
        connection.execute(_CHANGES[action], (self.store.now(), badge))
        self.audit.append_in(connection, by, action, detail={"badge": badge})
        return _existing(connection, badge)

    # --- login -------------------------------------------------------------------------------------------

    def authenticate(self, badge: str, pin: Pin, *, face: str = "gui") -> Operator:
        """The operator for this badge and PIN; LoginRefused (audited) otherwise.

        ``face`` (gui, cli) goes into the audit entries, so the log says where the login happened.
        """
        with self.store.connect() as connection:
            row = connection.execute(_SELECT_ONE, (badge,)).fetchone()
        if row is None:
            verify_pin(pin, _decoy_hash())
            raise self._login_refused(None, face, "unknown", "login refused: no account for this badge")
        user = _user(row)
        if user.disabled:
            raise self._login_refused(user, face, "disabled", f"login refused: account {badge} is disabled")
        if self._locked(user):
            until = user.locked_until
            raise self._login_refused(user, face, "locked", f"login refused: {badge} is locked until {until}")
        if not verify_pin(pin, str(row[-1])):
            raise self._wrong_pin(user, face)
        with self.store.write() as connection:
            connection.execute(_GOOD_LOGIN, (badge,))
            self.audit.append_in(connection, user.operator, "login", detail={"face": face})
        return user.operator

    def _wrong_pin(self, user: User, face: str) -> LoginRefused:
        with self.store.write() as connection:
            failed = int(connection.execute(_COUNT_FAILED, (user.badge,)).fetchone()[0])
            locked = failed >= self.max_failed
            if locked:
                connection.execute(_LOCK, (rfc3339(self.store.clock() + self.lockout), user.badge))
            detail = {"reason": "wrong-pin", "failed": failed, "locked": locked, "face": face}
            self.audit.append_in(connection, user.operator, "login-failed", detail=detail, outcome="failed")
        if locked:
            message = f"login refused: wrong PIN; {user.badge} is now locked for {self.lockout}"
        else:
            left = self.max_failed - failed
            message = f"login refused: wrong PIN for {user.badge} ({left} attempts left before a lock)"
        return LoginRefused(message, badge=user.badge, reason="wrong-pin")

    def _login_refused(self, user: User | None, face: str, reason: str, message: str) -> LoginRefused:
        actor = None if user is None else user.operator
        detail = {"reason": reason, "face": face}
        self.audit.append(actor, "login-failed", detail=detail, outcome="failed")
        return LoginRefused(message, badge=None if user is None else user.badge, reason=reason)

    def _locked(self, user: User) -> bool:
        until = user.locked_until
        return until is not None and datetime.fromisoformat(until) > self.store.clock()


def _add_refusal(connection: sqlite3.Connection, by: Operator | None, role: str) -> AccessError | None:
    """Why ``by`` may not add an account of ``role`` now, or None (checked inside the transaction)."""
    if _enabled_admins(connection) == 0:
        if role != "admin":
            return AccessError("the first account on a station must be an admin (bootstrap)")
        return None
    return _manager_refusal(connection, by)


def _manager_refusal(
    connection: sqlite3.Connection, by: Operator | None, action: str = "users.manage"
) -> PermissionDenied | None:
    """Why ``by`` may not ``action``: nobody, a role without it, or a stale login (the account was
    disabled or its role changed since). An ``Operator`` is only a claim; the database decides."""
    if by is None:
        return PermissionDenied(None, None, action)
    account = _get(connection, by.id)
    if account is None or account.disabled or account.role != by.role:
        return PermissionDenied(by.id, by.role, action, reason="the account is disabled or has changed")
    if not allowed(by.role, action):
        return PermissionDenied(by.id, by.role, action)
    return None


def _enabled_admins(connection: sqlite3.Connection) -> int:
    return int(connection.execute(_ENABLED_ADMINS).fetchone()[0])


def _get(connection: sqlite3.Connection, badge: str) -> User | None:
    row = connection.execute(_SELECT_ONE, (badge,)).fetchone()
    return None if row is None else _user(row)


def _existing(connection: sqlite3.Connection, badge: str) -> User:
    user = _get(connection, badge)
    if user is None:
        raise AccessError(f"no account with badge {badge}")
    return user


def _user(row: tuple[Any, ...]) -> User:
    badge, name, role, disabled, failed, locked_until, created, updated, _pin_hash = row
    return User(badge, name, role, bool(disabled), int(failed), locked_until, created, updated)
