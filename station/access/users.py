"""Operator accounts in the station's database: add, list, disable, enable, set a PIN, log in (with lockout).

The badge id is the operator's public name in records and the audit log; the PIN is the secret.

>>> check_badge("B 42")
Traceback (most recent call last):
station.core.errors.AccessError: a badge id is 1 to 64 letters, digits or . _ : -
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
_SET_LOGIN_STATE = "UPDATE users SET failed_logins = ?, locked_until = ? WHERE badge = ?"
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


@dataclass(frozen=True)
class _Attempt:
    """A login that took its place in line: counted as a wrong PIN until ``UserStore._settle``.

    ``place`` is the account's failure count with this attempt in it; ``pin_hash`` is the hash the PIN
    is checked against (a PIN changed meanwhile makes the check stale).
    """

    user: User
    pin_hash: str = field(repr=False)
    place: int


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
        verifier: Callable[[Pin, str], bool] = verify_pin,
        max_failed: int = MAX_FAILED_LOGINS,
        lockout: timedelta = LOCKOUT,
        bootstrap: bool = True,
    ) -> None:
        """``bootstrap`` False: an admin is never added without a login here, even with no admin at all
        (a production station's data opened away from its configured data directory)."""
        self.audit = audit
        self.store = audit.store
        self._hasher = hasher
        self._verifier = verifier
        self.max_failed = max_failed
        self.lockout = lockout
        self.bootstrap = bootstrap

    def __repr__(self) -> str:
        return f"UserStore({self.store!r})"

    def list(self) -> list[User]:
        with self.store.connect() as connection:
            return [_user(row) for row in connection.execute(_SELECT_ALL).fetchall()]

    def get(self, badge: str) -> User | None:
        with self.store.connect() as connection:
            return _get(connection, badge)

    def needs_bootstrap(self) -> bool:
        """True while no enabled admin exists (and ``bootstrap`` allows one): then only an admin may be
        added, without a login."""
        with self.store.connect() as connection:
            return self.bootstrap and _enabled_admins(connection) == 0

    # --- changes -----------------------------------------------------------------------------------------

    def add(self, badge: str, name: str, role: str, pin: Pin, *, by: Operator | None) -> User:
        """A new account; ``by`` None only for the bootstrap admin."""
        badge, name, role = check_badge(badge), check_name(name), check_role(role)
        check_new_pin(pin)
        pin_hash = self._hasher(pin)  # before the transaction: scrypt must not hold the store's lock
        with self.store.write() as connection:
            refusal = _add_refusal(connection, by, role, bootstrap=self.bootstrap)
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

    def authenticate(
        self, badge: str, pin: Pin, *, face: str = "gui", detail: Mapping[str, Any] | None = None
    ) -> Operator:
        """The operator for this badge and PIN; LoginRefused (audited) otherwise.

        ``face`` (gui, cli) goes into the audit entries, so the log says where the login happened;
        ``detail`` adds to the ``login`` entry what the login is for.

        The lockout holds however many logins run at once, in threads or processes: the lock test and
        the count are one write transaction that gives the attempt its place in line and counts it as a
        wrong PIN (``_reserve``); scrypt then runs outside any transaction (it takes about 0.1 s, and a
        held write lock would stall every record write); a second transaction settles the attempt
        (``_settle``). At most ``max_failed`` PINs are checked between a good login and the lock, whatever
        the interleaving, and every wrong one stays counted. An attempt still being checked counts as
        wrong (an attempt that never settles, its process killed, stays counted): a login that comes
        meanwhile may be refused as locked, never let through.
        """
        attempt = self._reserve(badge, face)
        if attempt is None:
            self._verifier(pin, _decoy_hash())
            raise self._login_refused(None, face, "unknown", "login refused: no account for this badge")
        return self._settle(attempt, self._verifier(pin, attempt.pin_hash), face, detail)

    def _reserve(self, badge: str, face: str) -> _Attempt | None:
        """Refuse a disabled or locked account (audited), or count this attempt as a wrong PIN; None for
        an unknown badge. The attempt that fills the count locks the account now, before its check."""
        with self.store.write() as connection:
            row = connection.execute(_SELECT_ONE, (badge,)).fetchone()
            if row is None:
                return None
            user = _user(row)
            refusal = self._account_refusal(user)
            if refusal is None:
                place = user.failed_logins + 1
                lock = self._lock_until() if place >= self.max_failed else None
                connection.execute(_SET_LOGIN_STATE, (place, lock, badge))
                return _Attempt(user, str(row[-1]), place)
            detail = {"reason": refusal.reason, "face": face}
            self.audit.append_in(connection, user.operator, "login-failed", detail=detail, outcome="failed")
        raise refusal

    def _settle(
        self, attempt: _Attempt, right: bool, face: str, detail: Mapping[str, Any] | None
    ) -> Operator:
        """Log in (the count keeps only the attempts that took their place after this one), or keep the
        wrong PIN counted and lock at the limit; audited in the same transaction."""
        user = attempt.user
        with self.store.write() as connection:
            row = connection.execute(_SELECT_ONE, (user.badge,)).fetchone()
            now, stale = _user(row), row[-1] != attempt.pin_hash
            if right and not now.disabled and not stale:
                after = max(now.failed_logins - attempt.place, 0)
                lock = now.locked_until if after >= self.max_failed else None
                connection.execute(_SET_LOGIN_STATE, (after, lock, user.badge))
                entry = {"face": face, **(detail or {})}
                self.audit.append_in(connection, user.operator, "login", detail=entry)
                return user.operator
            if right:  # disabled or given a new PIN while this login was checked: refused, not counted
                refusal = _disabled(user) if now.disabled else _pin_changed(user)
                entry = {"reason": refusal.reason, "face": face}
            else:
                refusal, entry = self._wrong_pin(connection, now, attempt.place, face)
            self.audit.append_in(connection, user.operator, "login-failed", detail=entry, outcome="failed")
        raise refusal

    def _wrong_pin(
        self, connection: sqlite3.Connection, user: User, place: int, face: str
    ) -> tuple[LoginRefused, dict[str, Any]]:
        """The refusal of a wrong PIN (already counted by ``_reserve``), locking at the limit."""
        locked = user.failed_logins >= self.max_failed
        if locked:
            connection.execute(_SET_LOGIN_STATE, (user.failed_logins, self._lock_until(), user.badge))
            message = f"login refused: wrong PIN; {user.badge} is now locked for {self.lockout}"
        else:
            left = self.max_failed - user.failed_logins
            message = f"login refused: wrong PIN for {user.badge} ({left} attempts left before a lock)"
        detail = {"reason": "wrong-pin", "failed": place, "locked": locked, "face": face}
        return LoginRefused(message, badge=user.badge, reason="wrong-pin"), detail

    def _account_refusal(self, user: User) -> LoginRefused | None:
        """Why this account logs nobody in now (disabled, locked), or None."""
        if user.disabled:
            return _disabled(user)
        if self._locked(user):
            message = f"login refused: {user.badge} is locked until {user.locked_until}"
            return LoginRefused(message, badge=user.badge, reason="locked")
        return None

    def _login_refused(self, user: User | None, face: str, reason: str, message: str) -> LoginRefused:
        actor = None if user is None else user.operator
        detail = {"reason": reason, "face": face}
        self.audit.append(actor, "login-failed", detail=detail, outcome="failed")
        return LoginRefused(message, badge=None if user is None else user.badge, reason=reason)

    def _locked(self, user: User) -> bool:
        until = user.locked_until
        return until is not None and datetime.fromisoformat(until) > self.store.clock()

    def _lock_until(self) -> str:
        return rfc3339(self.store.clock() + self.lockout)


def _disabled(user: User) -> LoginRefused:
    message = f"login refused: account {user.badge} is disabled"
    return LoginRefused(message, badge=user.badge, reason="disabled")


def _pin_changed(user: User) -> LoginRefused:
    message = f"login refused: the PIN of {user.badge} was changed during this login; log in again"
    return LoginRefused(message, badge=user.badge, reason="pin-changed")


def _add_refusal(
    connection: sqlite3.Connection, by: Operator | None, role: str, *, bootstrap: bool = True
) -> AccessError | None:
    """Why ``by`` may not add an account of ``role`` now, or None (checked inside the transaction)."""
    if _enabled_admins(connection) == 0:
        if not bootstrap:
            return AccessError(
                "no enabled admin here, and the first admin is created only in a production station's "
                "configured data directory (not with --data or --store elsewhere)"
            )
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
