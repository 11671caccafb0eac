"""The window's side of operator accounts: open them, log in demo operators, say refusals plainly.

>>> refused = LoginRefused("login refused: wrong PIN; B0042 is now locked for 0:15:00",
...                        badge="B0042", reason="wrong-pin")          # as the user store raises it
>>> print(refusal_text(refused))
Wrong PIN; B0042 is now locked for 15 minutes. Too many wrong PINs: wait, or ask an admin to unlock it
(station users enable B0042).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from station.access.audit import AuditLog
from station.access.pins import Pin, check_new_pin, hash_pin
from station.access.roles import ROLES
from station.access.session import OperatorSession
from station.access.users import UserStore
from station.app.data import StationData
from station.core.config import StationConfig
from station.core.errors import AccessError, LoginRefused
from station.core.operator import Operator

DEMO_NAMES = {"operator": "Demo Operator", "qa": "Demo QA", "rma": "Demo RMA", "admin": "Demo Admin"}
DEMO_PIN_DIGITS = 8
_LOCK_SPAN = re.compile(r"locked for (\d+):(\d\d):\d\d")  # str(timedelta): "0:15:00"


def open_operator_session(
    config: StationConfig,
    data_dir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    hasher: Callable[[Pin], str] = hash_pin,
) -> OperatorSession:
    """The station's accounts and audit log (created on a new station), as a GUI session (``face`` gui)."""
    data = StationData.open(config, data_dir=data_dir, environ=environ, create=True)
    return OperatorSession(UserStore(AuditLog(data.store(), data.signing_key()), hasher=hasher), face="gui")


def first_account_text(config: StationConfig, data_dir: Path) -> str:
    """What the login screen says on a station without accounts: who acts, and the exact command."""
    where = f"--config {config.path}" if Path(config.path).is_file() else f"--data {data_dir}"
    return (
        "This station has no operator accounts yet, so nobody can log in and no unit can start. "
        "An admin creates the first account (it must be an admin) on this computer with:\n"
        f"    station users add BADGE --name NAME --role admin {where}\n"
        "then adds the operators' accounts the same way (--role operator, qa or rma) and starts the "
        "window again."
    )


def refusal_text(refused: LoginRefused) -> str:
    """A refused login as a sentence with what to do (the badge is named only when it has an account)."""
    if refused.reason == "unknown":
        return "No account for this badge. Check the badge, or ask an admin to add you."
    badge = refused.badge or "this badge"
    unlock = f"Ask an admin to unlock it (station users enable {badge})."
    if refused.reason == "disabled":
        return f"The account of {badge} is disabled. Ask an admin."
    text = _LOCK_SPAN.sub(_minutes, str(refused).removeprefix("login refused: "))
    text = text[:1].upper() + text[1:]
    if refused.reason == "locked" or "locked" in text:
        return f"{text}. Too many wrong PINs: wait, or {unlock[0].lower()}{unlock[1:]}"
    return f"{text}."


@dataclass
class DemoAccounts:
    """One account per role in a demo station's database; the PINs exist in this object only."""

    badges: dict[str, str]
    _pins: dict[str, Pin] = field(repr=False)

    @classmethod
    def create(cls, users: UserStore) -> DemoAccounts:
        """Add ``demo-<role>`` accounts (the admin first: it bootstraps the station), each audited."""
        badges, pins = {}, {}
        admin: Operator | None = None
        for role in ("admin", *(r for r in ROLES if r != "admin")):
            pin = _random_pin()
            user = users.add(f"demo-{role}", DEMO_NAMES.get(role, role), role, pin, by=admin)
            admin = admin or user.operator
            badges[role], pins[role] = user.badge, pin
        return cls(badges, pins)

    def login(self, session: OperatorSession, role: str) -> Operator:
        """Log the demo account of ``role`` in (audited as any login); AccessError for an unknown role."""
        if role not in self.badges:
            raise AccessError(f"no demo account for role {role!r}; one of {', '.join(self.badges)}")
        return session.login(self.badges[role], self._pins[role])


def _minutes(match: re.Match[str]) -> str:
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    return f"locked for {minutes} minutes"


def _random_pin() -> Pin:
    while True:
        pin = Pin(f"{secrets.randbelow(10**DEMO_PIN_DIGITS):0{DEMO_PIN_DIGITS}d}")
        try:
            check_new_pin(pin)
        except AccessError:
            continue  # one digit repeated or a straight run: draw again
        return pin
