"""The RMA flow: a returned unit back to a known, recorded state, in a record that supersedes its last one.

>>> RmaPolicy(unknown_unit="accept")          # accepted units say so in the step detail and the record
RmaPolicy(unknown_unit='accept', backend_wipe=True, wipe_grace=30.0)
>>> RmaPolicy(unknown_unit="ignore")
Traceback (most recent call last):
station.core.errors.ConfigError: [rma.unknown_unit] unknown_unit is 'ignore'; choose one of refuse, accept
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from station.core import codec
from station.devices.ppa import protocol
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import FreshAttestation, ProvisionedAttestation
from station.pipeline.drafts import RunFrame
from station.pipeline.engine import SAFE_RETRY, Group, RunContext, RunResult, Step, StepFailed
from station.pipeline.modes.production import (
    ProductionDeps,
    ProductionFlow,
    facts_draft,
    genuine_id_of,
    refuse_fail_state,
)
from station.pipeline.modes.rma import check as rmacheck
from station.pipeline.modes.rma.wipe import (
    BACKEND,
    ESCROWED,
    NO_WIPE,
    AskPassphrase,
    EscrowedKey,
    ReturnedUnit,
    RmaPolicy,
    Wiper,
)
from station.pipeline.unitguard import GuardedClient
from station.records import model
from station.records.entries import StoredRecord
from station.records.history import current_record

__all__ = ["AskPassphrase", "EscrowedKey", "ReturnedUnit", "RmaDeps", "RmaFlow", "RmaPolicy", "UnitHistory"]

UnitHistory = Callable[[str | None, str | None], list[StoredRecord]]  # (devid, genuine_id) -> records


@dataclass
class RmaDeps:
    """Production's dependencies (backend, profile, secrets, sealing), the unit history and the policy."""

    production: ProductionDeps
    history: UnitHistory
    policy: RmaPolicy = field(default_factory=RmaPolicy)
    history_scope: str = "this station's records"  # where ``history`` looks, for messages
    escrowed: EscrowedKey | None = None  # with an escrow key: a sealed unit's passphrase from its record


@dataclass
class RmaState:
    """What the RMA steps learn beside ``UnitFacts`` (public values only)."""

    personalised: bool = False
    history_deferred: bool = False
    history_devid: str | None = None
    supersedes: str | None = None
    se_blank: bool = False
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # extra step detail by step name


class RmaFlow:
    """The steps of one RMA run over one returned unit (a ``flow.Flow``)."""

    mode = "rma"

    def __init__(self, client: PpaClient, deps: RmaDeps, *, slot: str = "") -> None:
        self.client = client
        self.deps = deps
        self.production = ProductionFlow(client, deps.production)
        self.facts = self.production.facts
        self.state = RmaState()
        made = deps.production
        self.wiper = Wiper(
            client, made.backend, deps.policy, made.kdf_slots, slot=slot, escrowed=deps.escrowed
        )

    @property
    def unit_id(self) -> str | None:
        return self.facts.unit_id

    def plan(self) -> list[Step | Group]:
        made = self.production
        return [
            Step("identify", self.identify, timeout=120, retry=SAFE_RETRY),
            Step("history", self.history, timeout=30),
            Step("wipe", self.wipe, timeout=60, writes=True),
            Step("reboot", self.await_wipe, timeout=180),
            Group("check-in", (Step("check-in", made.checkin, timeout=30, retry=SAFE_RETRY),)),
            Step("attest", self.attest, timeout=30, retry=SAFE_RETRY),
            Step("certificate", self.certificate, timeout=30),
            Step("provision", self.provision, timeout=30, writes=True),
            Step("verify-lock", made.verify_lock, timeout=30, retry=SAFE_RETRY),
            Step("personalize", made.personalize, timeout=120, writes=True),
            Step("verify", self.verify, timeout=120, retry=SAFE_RETRY),  # self-test: up to 60 s more
        ]

    def draft(self, result: RunResult, frame: RunFrame) -> model.RecordDraft:
        links = model.Links(supersedes=self.state.supersedes)
        details = self.state.details
        return facts_draft(self.facts, result, frame, mode=self.mode, links=links, details=details)

    # --- identify ----------------------------------------------------------------------------------------

    def identify(self, ctx: RunContext) -> str:
        status = self.client.status()
        refuse_fail_state(status)
        described = self.production.read_version()
        if not status.inited:
            return f"{described}; not personalised; {self._secure_element(ctx, token=None)}"
        self.state.personalised = True
        if status.tts and status.time is None:
            self.production.checkin(ctx)  # with trusted time on, the unit answers logins only once it has
        challenge = self.client.token_challenge()
        self.facts.eid = challenge.eid
        self._pin_instance(challenge.eid)
        token = self.wiper.open(challenge)
        if token is None:
            return f"{described}; {self._unopened(challenge.eid)}"
        config = self.client.config(token)
        self.facts.devid, self.facts.eid_sign = config.devid, config.eid_sign
        self.facts.instanceid = config.instanceid
        ctx.identified(config.devid)
        element = self._secure_element(ctx, token)
        if self.facts.genuine_id != config.genuine_id:
            raise StepFailed("identity-mismatch", "the unit reports another secure element than it attests")
        return f"{described}; personalised unit {config.devid}, {self._way_in()} accepted; {element}"

    def _way_in(self) -> str:
        wiper = self.wiper
        if wiper.way_in == ESCROWED:
            return f"the passphrase sealed in its record {wiper.sealed_record} (escrow key)"
        if wiper.escrow_refused is not None:
            return f"the customer passphrase (the one sealed in record {wiper.escrow_refused} was refused)"
        return "customer passphrase"

    def _unopened(self, eid: str) -> str:
        self.wiper.refuse_without_passphrase()
        self.state.history_deferred = True
        refused = self.wiper.escrow_refused
        escrow = f"the passphrase sealed in record {refused} was refused and " if refused else ""
        return (
            f"personalised unit (eid {eid}), {escrow}no customer passphrase: its devid and secure "
            "element stay behind the customer's login, so it is wiped through the backend and identified "
            "after the wipe"
        )

    def _secure_element(self, ctx: RunContext, token: str | None) -> str:
        """Read the attestation: the secure element's serial; a certificate that is not ours is refused."""
        attestation = self.client.attestation(token)
        self.facts.genuine_id = genuine_id_of(attestation)
        ctx.identified(self.facts.devid or self.facts.genuine_id)
        if isinstance(attestation, FreshAttestation):
            return f"secure element {self.facts.genuine_id} is blank"
        reason = rmacheck.issuer_reason(attestation, self.deps.production.backend.ca_certificate())
        if reason is not None:
            raise _foreign(self.facts.genuine_id, reason, wiped=False)
        return f"secure element {self.facts.genuine_id} carries a certificate from our factory CA"

    def _pin_instance(self, eid: str | None) -> None:
        """Tell the slot's identity guard which instance is in the slot (a personalised unit: its eid)."""
        if isinstance(self.client, GuardedClient):
            self.client.eid = eid

    # --- history -----------------------------------------------------------------------------------------

    def history(self, ctx: RunContext) -> str:
        if self.state.history_deferred:
            return "looked up after the wipe (attest): the unit shows its identity only once wiped"
        return self._look_up(ctx)

    def _look_up(self, ctx: RunContext) -> str:
        records = self.deps.history(self.facts.devid, self.facts.genuine_id)
        for line in rmacheck.history_lines(records):
            ctx.log(line)
        detail = self.state.details.setdefault(ctx.step, {})
        detail["records"] = [rmacheck.summary(record) for record in records[-rmacheck.MAX_SHOWN :]]
        current = current_record(records)
        if current is None:
            return self._unknown(detail, len(records))
        if self.facts.devid and current.devid and current.devid != self.facts.devid:
            raise StepFailed(
                "identity-mismatch",
                f"secure element {self.facts.genuine_id} belongs to unit {current.devid}'s record "
                f"{current.record_id}, but this board is {self.facts.devid}; set it aside for QA",
            )
        self.state.supersedes, self.state.history_devid = current.record_id, current.devid
        self.facts.devid = self.facts.devid or current.devid
        detail["supersedes"] = current.record_id
        return (
            f"{len(records)} record(s) of this unit; this run supersedes its {current.mode} record "
            f"{current.record_id} (station {current.station_id}, seq {current.seq})"
            f"{rmacheck.se_changed_note(current, self.facts.genuine_id)}"
        )

    def _unknown(self, detail: dict[str, Any], count: int) -> str:
        """No passing production or RMA record anywhere: the station's policy decides, recorded either way."""
        policy = self.deps.policy.unknown_unit
        seen = f"{count} record(s) of this unit but none that passed" if count else "no record of this unit"
        facts = self.facts
        found = f"{seen} ({rmacheck.identity_text(facts.devid, facts.genuine_id, facts.eid)}) in "
        found += self.deps.history_scope
        detail.update(decision=f"{policy}-unknown-unit", unknown_unit=policy)
        if policy == "accept":
            return f"{found}; accepted as an unknown unit (RMA policy unknown_unit = accept), recorded"
        wiped = self.wiper.method != NO_WIPE
        done = "it was wiped through the backend, nothing else written" if wiped else "nothing was written"
        raise StepFailed(
            "unknown-unit",
            f"{found}; {done}. If the unit is ours, an RMA engineer may accept it: run it again with the "
            'RMA policy unknown_unit = "accept" (the decision is recorded with their operator id)',
        )

    # --- wipe and reboot ---------------------------------------------------------------------------------

    def wipe(self, ctx: RunContext) -> str:
        if not self.state.personalised:
            self.state.details["wipe"] = {"method": NO_WIPE}
            return "the unit is not personalised: nothing to wipe"
        facts = self.facts
        method = self.wiper.way_in if self.wiper.token is not None else BACKEND
        self.state.details["wipe"] = {"method": method}
        if method == ESCROWED:
            self.state.details["wipe"]["sealed_record"] = self.wiper.sealed_record
        unit = {"eid": facts.eid, "devid": facts.devid, "genuine_id": facts.genuine_id}
        ctx.intent({"wipe": method, **unit, "supersedes": self.state.supersedes})
        return self.wiper.wipe()

    def await_wipe(self, ctx: RunContext) -> str:
        if self.wiper.method == NO_WIPE:
            return "nothing was wiped: no reboot to wait for"
        detail = self.wiper.await_wiped(ctx)
        self._pin_instance(None)  # the wipe made a new instance (eid); personalisation names the next one
        return detail

    # --- attestation, certificate, provisioning, verification -------------------------------------------

    def attest(self, ctx: RunContext) -> str:
        attestation = self.client.attestation()
        known, self.facts.genuine_id = self.facts.genuine_id, genuine_id_of(attestation)
        if known is not None and known != self.facts.genuine_id:
            raise StepFailed(
                "unit-changed",
                f"the slot now holds secure element {self.facts.genuine_id}, not {known} that this run wiped",
            )
        ctx.identified(self.facts.devid or self.facts.genuine_id)
        if isinstance(attestation, FreshAttestation):
            self.state.se_blank = True
            return self._deferred_look_up(ctx) + self.production.attest(ctx)
        ours = self._our_certificate(attestation)  # a foreign certificate says more than a missing record
        return self._deferred_look_up(ctx) + ours

    def _deferred_look_up(self, ctx: RunContext) -> str:
        if not self.state.history_deferred:
            return ""
        self.state.history_deferred = False
        return self._look_up(ctx) + "; "

    def _our_certificate(self, attestation: ProvisionedAttestation) -> str:
        ca = self.deps.production.backend.ca_certificate()
        reason = rmacheck.foreign_reason(attestation, ca, now=self.production.device_time())
        if reason is not None:
            raise _foreign(self.facts.genuine_id, reason, wiped=self.wiper.method != NO_WIPE)
        certificate = attestation.certificate
        self.facts.crt_der = codec.b64decode(attestation.crt)
        key = certificate.public_key()
        self.facts.attestation_key_sha1 = protocol.attestation_ski(key).hex()  # type: ignore[arg-type]
        return (
            f"secure element {self.facts.genuine_id} keeps its certificate (serial "
            f"{certificate.serial_number:x}, from our factory CA) and holds its key"
        )

    def certificate(self, ctx: RunContext) -> str:
        if not self.state.se_blank:
            return "the secure element keeps its certificate: nothing to issue"
        return self.production.certificate(ctx)

    def provision(self, ctx: RunContext) -> str:
        if not self.state.se_blank:
            return "the secure element keeps its certificate: nothing to write"
        return self.production.provision(ctx)

    def verify(self, ctx: RunContext) -> str:
        detail = self.production.verify(ctx)
        expected = self.state.history_devid
        if expected is not None and self.facts.devid != expected:
            raise StepFailed(
                "identity-mismatch",
                f"the unit reports devid {self.facts.devid}; its secure element's records are of {expected}",
            )
        return detail


def _foreign(genuine_id: str | None, reason: str, *, wiped: bool) -> StepFailed:
    done = "it was wiped, nothing else written" if wiped else "nothing was written to it"
    return StepFailed(
        "foreign-certificate",
        f"secure element {genuine_id} carries a certificate that is not ours: {reason}; {done}. "
        "Set the unit aside for QA",
    )
