"""The logged-in operator at one face of the station (CLI or GUI); each refusal is audited, then raised.

Audited events that are not logins need a permission of their own:

>>> PERMISSION_FOR_EVENT["label-reprint"]
'label.reprint'
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from station.access.pins import Pin
from station.access.roles import allowed, check_action
from station.access.users import UserStore
from station.core.operator import Operator

PERMISSION_FOR_EVENT: Mapping[str, str] = {  # audit event -> the action it needs
    "label-reprint": "label.reprint",
    "key-operation": "keys.manage",
    "config-change": "config.change",
}


class OperatorSession:
    """Who is logged in at this face, what mode they chose, and the checks and audit that go with it."""

    def __init__(self, users: UserStore, *, face: str = "gui") -> None:
        self.users = users
        self.audit = users.audit
        self.face = face
        self._lock = threading.Lock()
        self._operator: Operator | None = None
        self._mode: str | None = None

    def __repr__(self) -> str:
        return f"OperatorSession({self.face}, operator={self.operator}, mode={self.mode})"

    @property
    def operator(self) -> Operator | None:
        with self._lock:
            return self._operator

    @property
    def mode(self) -> str | None:
        with self._lock:
            return self._mode

    def login(self, badge: str, pin: Pin, *, detail: Mapping[str, Any] | None = None) -> Operator:
        """Authenticate (audited by the user store, with ``detail``: what the login is for); whoever was
        logged in here is logged out first."""
        operator = self.users.authenticate(badge, pin, face=self.face, detail=detail)
        self.logout()
        with self._lock:
            self._operator = operator
        return operator

    def logout(self) -> None:
        """End the session (audited); the mode is forgotten with it. No-op when nobody is logged in."""
        with self._lock:
            operator, self._operator, self._mode = self._operator, None, None
        if operator is not None:
            self.audit.append(operator, "logout", detail={"face": self.face})

    def allowed(self, action: str) -> bool:
        """Whether the logged-in operator may ``action``; writes nothing."""
        operator = self.operator
        return operator is not None and allowed(operator.role, action)

    def require(self, action: str, detail: Mapping[str, Any] | None = None) -> Operator:
        """The logged-in operator if they may ``action``; otherwise audit the refusal and raise it."""
        operator = self.operator
        check_action(action)
        refusal = self.users.check_current(operator, action)
        if refusal is not None:
            entry = {"action": action, "face": self.face, **(detail or {})}
            self.audit.append(operator, "permission-refused", detail=entry, outcome="refused")
            raise refusal
        assert operator is not None  # check_current refuses nobody
        return operator

    def change_mode(self, mode: str) -> Operator:
        """Switch to ``mode`` (production, qa, rma, readers) if allowed; audited either way."""
        operator = self.require(f"mode.{mode}", {"mode": mode})
        with self._lock:
            previous, self._mode = self._mode, mode
        self.audit.append(operator, "mode-change", detail={"from": previous, "to": mode, "face": self.face})
        return operator

    def perform(
        self, event: str, detail: Mapping[str, Any] | None = None, *, outcome: str = "ok"
    ) -> Operator:
        """Check the permission ``event`` needs (``PERMISSION_FOR_EVENT``) and audit the event."""
        operator = self.require(PERMISSION_FOR_EVENT[event], detail)
        self.audit.append(operator, event, detail={"face": self.face, **(detail or {})}, outcome=outcome)
        return operator
