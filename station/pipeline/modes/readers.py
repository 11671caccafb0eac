"""The ``readers`` flow: a SpringCard reader on the bench gets the line's configuration and its own identity.

>>> flow = ReadersFlow(client=None, device_id="SC-0001", deps=None)    # the plan needs no reader yet
>>> [step.name for step in flow.plan()]
['identify', 'wink', 'inventory', 'configure', 'personalize', 'reset', 'verify']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from station.core.config import ReaderProfile
from station.core.errors import ConfigDataError, DeviceFailure, DeviceTimeout, DeviceUnreachable
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.configdata import ConfigData
from station.devices.springcore.errors import ReaderBusy, ReaderGone, ReaderRestarting
from station.devices.springcore.profile import INVENTORY_REGISTER, LOCATION_REGISTER, unit_registers
from station.devices.springcore.waiting import WaitCancelled, wait_until_back
from station.pipeline.drafts import RunFrame, record_draft
from station.pipeline.engine import Cancelled, Group, RetryPolicy, RunContext, RunResult, Step, StepFailed
from station.records import model

StepAction = Callable[[RunContext], str | None]
# A 503 is not in these: the client itself tries again after the service's Retry-After, up to its busy
# deadline, and a verdict then names that deadline (another attempt would only outlast the step).
READ_RETRY = RetryPolicy(
    attempts=3,
    retry_on=(DeviceTimeout, DeviceUnreachable, DeviceFailure, ReaderBusy),
    malformed=True,
)
WRITE_RETRY = RetryPolicy(attempts=5, backoff=0.3, retry_on=(ReaderBusy,))  # a 409 wrote nothing
# Seconds a reader may take to come back after a write or a reset: its restart (a few seconds) and a USB
# re-enumeration of up to ~15 s on a slow host, with a margin (decision §11.13).
RESTART_DEADLINE = 30.0
CONFIG_ID_REGISTER = 0x0200


@dataclass(frozen=True)
class ReadersDeps:
    """The profile, its validated global configuration, and where scanned inventory numbers come from."""

    profile_name: str
    profile: ReaderProfile
    config: ConfigData
    scanned: Callable[[str, RunContext], str] | None = None  # (slot, ctx) → the scanned code


@dataclass
class ReaderFacts:
    """What the flow learnt about the reader (public values only)."""

    device_id: str
    serial: str | None = None
    product: str | None = None
    firmware: str | None = None
    inventory: str | None = None
    config_id: str | None = None


class ReadersFlow:
    """One reader through the readers flow (a ``flow.Flow``)."""

    mode = "readers"

    def __init__(self, client: CompanionClient, device_id: str, deps: ReadersDeps) -> None:
        self.client = client
        self.deps = deps
        self.facts = ReaderFacts(device_id)

    @property
    def unit_id(self) -> str | None:
        return self.facts.serial or self.facts.device_id

    def plan(self) -> list[Step | Group]:
        return [
            Step("identify", self._stoppable(self.identify), timeout=20, retry=READ_RETRY),
            Step("wink", self._stoppable(self.wink), timeout=20, retry=READ_RETRY),
            Step("inventory", self.inventory, timeout=300),
            self._write("configure", self.configure, timeout=60),
            self._write("personalize", self.personalize, timeout=30),
            self._write("reset", self.reset, timeout=60),
            Step("verify", self._stoppable(self.verify), timeout=30, retry=READ_RETRY),
        ]

    def identify(self, ctx: RunContext) -> str:
        device = self.client.device(self.facts.device_id)
        if device.genuine is False:
            raise StepFailed(
                "not-genuine", "the reader's authenticity certificate does not verify; set it aside"
            )
        facts = self.facts
        facts.serial, facts.firmware = device.serial_number, device.version
        facts.product = " ".join(p for p in (device.product_name, device.product_variant) if p) or device.name
        ctx.identified(facts.serial or facts.device_id)
        return f"{facts.product or 'reader'} {facts.serial or facts.device_id}, firmware {facts.firmware}"

    def wink(self, ctx: RunContext) -> str:
        self.client.wink(self.facts.device_id)
        return "the reader blinked: check it is the one in this slot"

    def inventory(self, ctx: RunContext) -> str:
        profile = self.deps.profile
        if profile.inventory == "scanned":
            if self.deps.scanned is None:
                raise StepFailed(
                    "no-scanner", "the profile wants a scanned inventory number; no scanner is set up"
                )
            number = self.deps.scanned(ctx.slot, ctx)
        else:
            number = profile.inventory_prefix + (self.facts.serial or self.facts.device_id)
        try:
            unit_registers(number, profile.location)  # checked before anything is written
        except ConfigDataError as exc:
            raise StepFailed(
                "bad-inventory", f"inventory number {number!r} cannot be written: {exc}"
            ) from None
        self.facts.inventory = number
        return f"inventory number {number}"

    def configure(self, ctx: RunContext) -> str:
        specific = self.deps.profile.specific
        ctx.intent({"config_sha256": self.deps.config.public_sha256(), "specific": specific})
        config_id = self.client.put_config(
            self.facts.device_id,
            self.deps.config,
            specific="discard" if specific == "discard" else "preserve",
        )
        self.facts.config_id = config_id.upper()
        self._wait_back(ctx, self.facts.config_id)
        return f"configuration {self.deps.profile_name} written (ConfigId {config_id}), reader restarted"

    def personalize(self, ctx: RunContext) -> str:
        assert self.facts.inventory is not None  # the inventory step ran
        ctx.intent({"inventory": self.facts.inventory, "location": self.deps.profile.location})
        body = unit_registers(self.facts.inventory, self.deps.profile.location)
        self.client.put_specific(self.facts.device_id, body)
        return f"inventory {self.facts.inventory}, location {self.deps.profile.location!r}"

    def reset(self, ctx: RunContext) -> str:
        ctx.intent({"reset": True})
        self.client.reset(self.facts.device_id)
        self._wait_back(ctx, None)
        return "reader restarted"

    def verify(self, ctx: RunContext) -> str:
        device = self.client.device(self.facts.device_id)
        written = self.facts.config_id
        if (device.config_id or "").upper() != written:
            raise StepFailed(
                "config-id-mismatch",
                f"the reader reports ConfigId {device.config_id}, not {written} written by this run: "
                "another tool changed it; run the reader again",
            )
        specific = self.client.get_specific(self.facts.device_id)
        expected = {
            INVENTORY_REGISTER: (self.facts.inventory or "").encode("utf-8"),
            LOCATION_REGISTER: self.deps.profile.location.encode("utf-8"),
        }
        wrong = [f"{address:04X}" for address, value in expected.items() if specific.get(address) != value]
        if wrong:
            raise StepFailed(
                "specific-mismatch",
                f"register(s) {', '.join(wrong)} do not hold what was written; run the reader again",
            )
        return f"ConfigId {written}, inventory and location read back"

    def _write(self, name: str, action: StepAction, *, timeout: float) -> Step:
        """A journalled write step, retried on 409 only, that tells an unplugged reader from a fault."""
        guarded = self._stoppable(self._noticing_removal(action))
        return Step(name, guarded, timeout=timeout, retry=WRITE_RETRY, writes=True)

    def _stoppable(self, action: StepAction) -> StepAction:
        """The action with the client's pauses (a 503's Retry-After) ended by the run's cancel event."""

        def bound(ctx: RunContext) -> str | None:
            self.client.cancel = ctx.cancel
            return action(ctx)

        return bound

    def _noticing_removal(self, action: StepAction) -> StepAction:
        """A write whose connection broke: if the service no longer knows the reader, it was unplugged."""

        def guarded(ctx: RunContext) -> str | None:
            try:
                return action(ctx)
            except (DeviceUnreachable, ReaderGone):
                if self._still_there():
                    raise
                raise StepFailed(
                    "reader-removed",
                    f"the reader was unplugged during {ctx.step}; plug it in again and run it again",
                ) from None

        return guarded

    def _still_there(self) -> bool:
        try:
            self.client.device(self.facts.device_id, busy_within=0)
        except ReaderGone:
            return False
        except (DeviceUnreachable, DeviceTimeout, ReaderRestarting):
            return True  # cannot tell: the original fault stands
        return True

    def _wait_back(self, ctx: RunContext, config_id: str | None) -> None:
        """Until the restart is over: the reader lists ``config_id`` (None after a reset: it was seen gone
        and answers again). The verdict of a reader that does not come back names the deadline."""
        try:
            within = min(RESTART_DEADLINE, ctx.remaining())
            wait_until_back(
                self.client, self.facts.device_id, config_id=config_id, within=within, cancel=ctx.cancel
            )
        except WaitCancelled:
            raise Cancelled from None

    def draft(self, result: RunResult, frame: RunFrame) -> model.RecordDraft:
        facts = self.facts
        unit = model.ReaderIdentity(
            device_id=facts.device_id,
            serial=facts.serial,
            product=facts.product,
            firmware=facts.firmware,
            inventory=facts.inventory,
            config_id=facts.config_id,
            config_sha256=self.deps.config.public_sha256() if facts.config_id else None,
        )
        profile = self.deps.profile
        personalization = {
            "profile": self.deps.profile_name,
            "location": profile.location,
            "specific": profile.specific,
        }
        return record_draft(self.mode, result, frame, unit, personalization=personalization)
