"""Who may read the dashboard beyond localhost: the line's station accounts, by badge and PIN, as roles.

>>> ROLE_OF["qa"], ROLE_OF["operator"], allowed("viewer", "/unit"), allowed("quality", "/unit")
('quality', 'viewer', False, True)
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from station.access.pins import Pin, hash_pin, verify_pin
from station.core.errors import AccessError

ROLE_OF = {"operator": "viewer", "qa": "quality", "rma": "quality", "admin": "admin"}  # station role -> here
RANK = {"viewer": 0, "quality": 1, "admin": 2}
QUALITY_PATHS = ("/unit", "/record", "/failures/records", "/api/unit", "/api/record", "/api/failures/records")
SESSION_SECONDS = 8 * 3600  # a login lasts a shift
MAX_FAILED = 5  # wrong PINs for a badge before it is locked here for LOCK_SECONDS
LOCK_SECONDS = 300
COOKIE = "line_session"


def allowed(role: str, path: str) -> bool:
    """Viewers see the line, failures, profiles and the report; quality and admin also units and records."""
    needs = "quality" if path.startswith(QUALITY_PATHS) else "viewer"
    return RANK.get(role, -1) >= RANK[needs]


@dataclass(frozen=True)
class Login:
    badge: str
    name: str
    role: str  # viewer | quality | admin
    until: float


class Accounts:
    """Checks badge and PIN against a station store's ``users`` (read-only: nothing is written there)."""

    def __init__(self, store: Path) -> None:
        if not store.is_file():
            raise AccessError(f"no accounts store at {store}")
        self.store = store
        self._sessions: dict[str, Login] = {}
        self._failed: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._decoy = hash_pin(Pin("0"))

    def login(self, badge: str, pin: str) -> str | None:
        """A new session token, or None (wrong badge or PIN, disabled, locked: one answer for all)."""
        badge = badge.strip()[:64]
        with self._lock:
            count, since = self._failed.get(badge, (0, 0.0))
            if count >= MAX_FAILED and time.monotonic() - since < LOCK_SECONDS:
                return None
        user = self._user(badge)
        try:  # an unknown badge costs the same scrypt as a known one: the answer time tells nothing
            good = (
                verify_pin(Pin(pin), self._decoy if user is None else user[2])
                and user is not None
                and not user[3]
            )
        except AccessError:
            good = False
        with self._lock:
            if not good or user is None:
                count, _ = self._failed.get(badge, (0, 0.0))
                self._failed[badge] = (count + 1, time.monotonic())
                return None
            self._failed.pop(badge, None)
            token = secrets.token_urlsafe(32)
            self._sessions[token] = Login(
                badge, user[0], ROLE_OF.get(user[1], "viewer"), time.time() + SESSION_SECONDS
            )
            return token

    def session(self, token: str | None) -> Login | None:
        with self._lock:
            login = self._sessions.get(token or "")
            if login is not None and login.until < time.time():
                del self._sessions[token or ""]
                return None
            return login

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _user(self, badge: str) -> tuple[str, str, str, bool] | None:
        uri = self.store.resolve().as_uri() + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute(
                "SELECT name, role, pin_hash, disabled FROM users WHERE badge = ?", (badge,)
            ).fetchone()
        except sqlite3.Error:
            return None
        finally:
            connection.close()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), bool(row[3]))
