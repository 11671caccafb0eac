"""Opening and wiping a returned unit: with the customer's passphrase, or by the backend's check-in action.

>>> from station.pipeline.kdf import KDF_SLOTS
>>> wiper = Wiper(client=None, backend=None, policy=RmaPolicy(), kdf_slots=KDF_SLOTS, slot="R1")
>>> wiper.open(TokenChallenge(exp=0, spk="", jti="", lbl="ACME-0042", eid="f00dfeed"))   # no passphrase
>>> wiper
Wiper(slot='R1', method='none', opened=False)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from station.core.errors import BackendRefused, ConfigError, DeviceRefused, DeviceTimeout, DeviceUnreachable
from station.devices.ppa import protocol
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import TokenChallenge
from station.factory.backend import Backend
from station.pipeline.engine import RunContext, StepFailed
from station.pipeline.modes.production import REBOOT_POLL

UNKNOWN_UNIT = ("refuse", "accept")
WIPE_GRACE = 30.0  # seconds a unit may still answer "personalised" after a wipe order (it acts ~2 s later)
PASSPHRASE, BACKEND, NO_WIPE = "customer-passphrase", "backend-check-in", "none"  # wipe methods
ESCROWED = "escrowed-passphrase"  # the wipe with the passphrase sealed in the unit's record (escrow key)


@dataclass(frozen=True)
class ReturnedUnit:
    """What the operator is shown when asked for the customer's passphrase (public values only)."""

    slot: str
    eid: str
    label: str  # the unit's configured user label (``lbl``)


AskPassphrase = Callable[[ReturnedUnit], str | None]  # None or "": no passphrase (backend wipe, if allowed)
# eid → (record id, user private key) from the passphrase sealed in that record; None: no record seals it
EscrowedKey = Callable[[str], tuple[str, bytes] | None]


@dataclass(frozen=True)
class RmaPolicy:
    """The station's RMA choices (``Station.open(rma=...)``); the passphrase comes from the caller."""

    unknown_unit: str = "refuse"  # a unit no record knows: "refuse" (default) or "accept" (recorded)
    customer_passphrase: AskPassphrase | None = field(default=None, repr=False)
    backend_wipe: bool = True  # without a passphrase, wipe through the backend's check-in action W
    wipe_grace: float = WIPE_GRACE

    def __post_init__(self) -> None:
        if self.unknown_unit not in UNKNOWN_UNIT:
            raise ConfigError(
                f"unknown_unit is {self.unknown_unit!r}; choose one of {', '.join(UNKNOWN_UNIT)}",
                key="rma.unknown_unit",
            )


class Wiper:
    """One returned unit's way in (the customer's login) and its wipe; ``method`` says which wipe ran."""

    def __init__(
        self,
        client: PpaClient,
        backend: Backend,
        policy: RmaPolicy,
        kdf_slots: threading.Semaphore,
        *,
        slot: str = "",
        escrowed: EscrowedKey | None = None,
    ) -> None:
        self.client = client
        self.backend = backend
        self.policy = policy
        self.kdf_slots = kdf_slots
        self.slot = slot
        self.escrowed = escrowed
        self.method = NO_WIPE
        self.way_in = PASSPHRASE  # or ESCROWED: whose passphrase opened the unit
        self.sealed_record: str | None = None  # the record whose sealed passphrase opened it (ESCROWED)
        self.escrow_refused: str | None = None  # a record whose sealed passphrase the unit refused
        self._user_key: bytes | None = None
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"Wiper(slot={self.slot!r}, method={self.method!r}, opened={self._token is not None})"

    @property
    def token(self) -> str | None:
        """The customer's ``system:config`` token of this boot (None before ``open`` and after the wipe)."""
        return self._token

    def open(self, challenge: TokenChallenge) -> str | None:
        """Log in with the passphrase sealed in the unit's record (with an escrow key), else with the
        customer's (asked once per run); None when neither is at hand."""
        if self._user_key is None:
            self._user_key = self._escrowed_key(challenge.eid) or self._asked_key(challenge)
            if self._user_key is None:
                return None
        try:
            self._token = self.client.login(self._user_key, "system:config")
        except DeviceRefused as exc:
            if exc.status != 401:
                raise
            self._user_key = None  # asked again if the operator runs the unit again
            if self.way_in == ESCROWED:  # its owner changed the passphrase: ask as without the escrow key
                self.way_in, self.escrow_refused, self.sealed_record = PASSPHRASE, self.sealed_record, None
                return self.open(challenge)
            raise StepFailed(
                "wrong-passphrase",
                "the unit refused a login with the customer passphrase (401): it is not this unit's user "
                "passphrase. Nothing was wiped; check the passphrase with the customer, or wipe the unit "
                "through the backend if it trusts it",
            ) from None
        return self._token

    def _escrowed_key(self, eid: str) -> bytes | None:
        if self.escrowed is None or self.escrow_refused is not None:
            return None
        found = self.escrowed(eid)
        if found is None:
            return None
        self.way_in, (self.sealed_record, key) = ESCROWED, found
        return key

    def _asked_key(self, challenge: TokenChallenge) -> bytes | None:
        ask = self.policy.customer_passphrase
        passphrase = ask(ReturnedUnit(self.slot, challenge.eid, challenge.lbl)) if ask else None
        if not passphrase:
            return None
        self.way_in = PASSPHRASE
        with self.kdf_slots:
            return protocol.derive_user_private_key(passphrase, challenge.eid)

    def refuse_without_passphrase(self) -> None:
        """StepFailed ``no-passphrase`` when this station may not wipe through the backend."""
        if not self.policy.backend_wipe:
            raise StepFailed(
                "no-passphrase",
                "the unit is personalised and no customer passphrase was given, and this station does not "
                "wipe through the backend; ask the customer for the unit's passphrase",
            )

    def wipe(self) -> str:
        """Order the wipe: ``wipeout`` with the customer's token, else the backend's action W."""
        if self._token is not None:
            self.client.update_config({"wipeout": True}, self._token)
            self.method = self.way_in
            whose = "the customer's login" if self.way_in == PASSPHRASE else "the escrowed passphrase's login"
            return f"wipeout ordered with {whose}: configuration, keys and logs are erased"
        try:
            checked = self.backend.checkin(self.client.checkin_request(), action="W")
        except BackendRefused as exc:
            raise StepFailed(
                "backend-wipe-refused",
                f"the backend did not order the wipe ({exc}); ask the customer for the unit's passphrase",
            ) from None
        result = self.client.checkin(checked)
        if result.status != "W":
            raise StepFailed("wipe-refused", f"the unit answered the wipe action with {result.status!r}")
        self.method = BACKEND
        return "the backend's check-in ordered the wipe (action W); the unit erases itself and reboots"

    def await_wiped(self, ctx: RunContext) -> str:
        """Poll until the unit answers wiped (not personalised); one still personalised ignored the wipe."""
        started = ctx.monotonic()
        while True:
            ctx.sleep(REBOOT_POLL)
            try:
                personalised = self.client.status().inited
            except (DeviceTimeout, DeviceUnreachable):
                continue  # rebooting
            if not personalised:
                self._token = None  # it died with the reboot
                return f"the unit answered wiped after {ctx.monotonic() - started:.1f} s"
            if ctx.monotonic() - started > self.policy.wipe_grace:
                raise StepFailed("wipe-ignored", self._ignored())

    def _ignored(self) -> str:
        grace = f"{self.policy.wipe_grace:g} s"
        if self.method == BACKEND:
            return (
                f"the unit still reports itself personalised {grace} after the backend's wipe order: it "
                "does not obey backend actions (its trusted_backend setting is off); ask the customer "
                "for the unit's passphrase"
            )
        return f"the unit took the wipeout but still reports itself personalised {grace} later; set it aside"
