"""How QA reads a personalised unit without changing it: a read-only login, and a clock-only check-in.

>>> QA_SCOPE                                 # reads the configuration and the audit log, writes neither
'logger:get'
>>> login(client=None, user_key=None, eid="f00dfeed", profile_name="default")    # a sealed profile
Traceback (most recent call last):
station.pipeline.engine.StepFailed: the escrow key is not configured on this bench: sealed units cannot be ...
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from station.core.errors import DeviceRefused
from station.devices.ppa import protocol
from station.devices.ppa.client import PpaClient
from station.factory.backend import Backend
from station.pipeline.engine import StepFailed
from station.pipeline.kdf import KDF_SLOTS

QA_SCOPE = "logger:get"  # reads the configuration and the audit log; cannot write either
TOKEN_LIFETIME = 300  # seconds; the token dies with the run (and at the unit's next reboot anyway)
CLOCK_NOTE = "the unit's clock was unset (trusted time on): checked in with action OK to set it"
NO_ESCROW = "the escrow key is not configured on this bench: sealed units cannot be checked — [keys] escrow"


def login(
    client: PpaClient,
    user_key: Callable[[str], bytes] | None,
    eid: str,
    *,
    profile_name: str,
    kdf_slots: threading.Semaphore = KDF_SLOTS,
) -> str:
    """A short ``logger:get`` bearer of the unit whose token challenge gave ``eid``, with batch secrets.

    ``user_key`` None (a sealed profile, and no escrow key on this bench): StepFailed ``no-credentials``.
    """
    if user_key is None:
        raise StepFailed(
            "no-credentials",
            f"{NO_ESCROW} (the unit is personalised and shows its attestation only after a login; profile "
            f"{profile_name!r} seals per-unit secrets, so a unit made with a batch profile needs QA with "
            "that profile)",
        )
    with kdf_slots:
        key = user_key(eid)
    refused = (
        f"the unit refused a login with profile {profile_name!r}'s batch secrets: it was personalised "
        "with other secrets (another batch or profile, or by its owner)"
    )
    return login_with(client, key, refused=refused)


def login_with(client: PpaClient, key: bytes, *, refused: str) -> str:
    """A short ``logger:get`` bearer with the user private key ``key``; a 401 fails with ``refused``."""
    try:
        return client.login(key, QA_SCOPE, lifetime=TOKEN_LIFETIME)
    except DeviceRefused as exc:
        if exc.status != 401:
            raise
        raise StepFailed("no-credentials", refused) from None


def set_clock(client: PpaClient, backend: Backend) -> str:
    """Check in with action OK only (the backend's answer is read before the unit sees it); a note."""
    checked = backend.checkin(client.checkin_request(), action="OK")
    action = protocol.parse_jwt(checked).claims.get("status")
    if action != "OK":
        raise StepFailed(
            "checkin-action",
            f"the backend answered the clock check-in with action {action!r}; QA carries out no backend "
            "action, so nothing was sent to the unit",
        )
    result = client.checkin(checked)
    if result.status != "OK":
        raise StepFailed("checkin-refused", f"the unit answered the check-in with {result.status!r}")
    return CLOCK_NOTE
