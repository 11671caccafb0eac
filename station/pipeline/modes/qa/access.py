"""How QA reads a personalised unit without changing it: a read-only login, and a clock-only check-in.

Example::

    token = login(client, user_key, eid, profile_name="default", kdf_slots=KDF_SLOTS)
    client.attestation(token)                     # a personalised unit attests only to a bearer
    note = set_clock(client, backend)             # only when the unit refused the token challenge (403)

A personalised unit shows its attestation and configuration only to a bearer (reference §3.1, §3.4), so
QA logs in (``POST /api/auth/token``) with the user key the batch profile derives, asking for
``logger:get``: a scope that reads the configuration and the audit log and can write neither. The unit
keeps nothing of a login but its audit-log line, which is what that log is for. A unit loses its clock at
every power-up and, with its trusted-time option on, refuses the token challenge until it has one (403,
§5.1); only then QA checks it in, asking the backend for action ``OK`` and refusing any other answer
before the unit sees it: the check-in sets the clock and nothing else. These are the only two non-GET
requests QA ever makes.
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


def login(
    client: PpaClient,
    user_key: Callable[[str], bytes] | None,
    eid: str,
    *,
    profile_name: str,
    kdf_slots: threading.Semaphore = KDF_SLOTS,
) -> str:
    """A short ``logger:get`` bearer of the unit whose token challenge gave ``eid``."""
    if user_key is None:
        raise StepFailed(
            "no-credentials",
            "the unit is personalised and shows its attestation only after a login; profile "
            f"{profile_name!r} seals per-unit secrets, so this station holds no key for it; run QA with "
            "the batch profile the unit was made with",
        )
    with kdf_slots:
        key = user_key(eid)
    try:
        return client.login(key, QA_SCOPE, lifetime=TOKEN_LIFETIME)
    except DeviceRefused as exc:
        if exc.status != 401:
            raise
        raise StepFailed(
            "no-credentials",
            f"the unit refused a login with profile {profile_name!r}'s batch secrets: it was personalised "
            "with other secrets (another batch or profile, or by its owner)",
        ) from None


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
