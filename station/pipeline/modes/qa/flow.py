"""The QA flow: a unit re-verified against the record it was made under, without changing it.

>>> flow = QaFlow(client=None, deps=None)                # read-only: no step writes to the unit
>>> [(step.name, step.writes) for step in flow.plan()]
[('identify', False), ('challenge', False), ('attest', False), ('record', False), ('compare', False)]
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from station.core import codec
from station.core.errors import DeviceRefused
from station.devices.ppa import protocol
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import FreshAttestation, ProvisionedAttestation
from station.factory.backend import Backend
from station.factory.escrow import EscrowKey
from station.pipeline.drafts import RunFrame, record_draft
from station.pipeline.engine import SAFE_RETRY, Group, RunContext, RunResult, Step, StepFailed
from station.pipeline.kdf import KDF_SLOTS
from station.pipeline.modes.production import genuine_id_of, refuse_fail_state
from station.pipeline.modes.qa.access import login, login_with, set_clock
from station.pipeline.modes.qa.compare import Finding, Observed, attestation_findings, compare
from station.pipeline.modes.qa.record import (
    FoundRecord,
    Located,
    RecordMissing,
    RecordSource,
    check_found,
    find_unit_record,
    registry_entry,
    unit_records,
)
from station.pipeline.modes.qa.sealed import sealed_record, sealed_user_key
from station.records import model


@dataclass
class QaDeps:
    """What the QA flow needs besides the unit: the factory authority and where the records are."""

    backend: Backend  # the factory CA certificate; the clock-only check-in
    sources: tuple[RecordSource, ...]  # this station's store, then the line database
    user_key: Callable[[str], bytes] | None  # eid → user private key; None: the profile seals secrets
    profile_name: str = "default"
    kdf_slots: threading.Semaphore = KDF_SLOTS
    escrow: EscrowKey | None = None  # opens sealed passphrases in records; None: not on this bench


@dataclass
class QaFacts:
    """What the run learnt; ``details`` adds structured values to a step's record entry."""

    seen: Observed = field(default_factory=Observed)
    crt_der: bytes | None = None  # kept for the record only when the factory CA issued it
    attestation: list[Finding] = field(default_factory=list)
    found: FoundRecord | None = None
    verifies: str | None = None
    notes: list[str] = field(default_factory=list)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)


class QaFlow:
    """The steps of one QA run over one unit (a ``flow.Flow``)."""

    mode = "qa"

    def __init__(self, client: PpaClient, deps: QaDeps) -> None:
        self.client = client
        self.deps = deps
        self.facts = QaFacts()
        self._token: str | None = None  # a bearer of this run; never in a record or a message
        self._ca: x509.Certificate | None = None

    @property
    def unit_id(self) -> str | None:
        return self.facts.seen.devid or self.facts.seen.genuine_id

    def plan(self) -> list[Step | Group]:
        return [
            Step("identify", self.identify, timeout=30, retry=SAFE_RETRY),
            Step("challenge", self.challenge, timeout=30, retry=SAFE_RETRY),
            Step("attest", self.attest, timeout=60, retry=SAFE_RETRY),
            Step("record", self.record, timeout=120),
            Step("compare", self.compare, timeout=10),
        ]

    def draft(self, result: RunResult, frame: RunFrame) -> model.RecordDraft:
        seen = self.facts.seen
        unit = model.UnitIdentity(
            devid=seen.devid,
            genuine_id=seen.genuine_id,
            eid=seen.eid or seen.config_eid,
            eid_sign=seen.eid_sign,
            instanceid=seen.instanceid,
            hwv=seen.hwv,
            fwv=seen.fwv,
            blv=seen.blv,
        )
        links = model.Links(verifies=self.facts.verifies)
        return record_draft(
            self.mode,
            result,
            frame,
            unit,
            provisioning=self._evidence(),
            links=links,
            details=self.facts.details,
        )

    # --- the unit ---------------------------------------------------------------------------------------

    def identify(self, ctx: RunContext) -> str:
        status = self.client.status()
        refuse_fail_state(status, advice="")  # QA is where such a unit is already going
        version = self.client.version()
        if "EPA" in version.hwv:
            raise StepFailed("wrong-product", f"this is an EPA ({version.hwv}), not a PPA")
        seen = self.facts.seen
        seen.inited, seen.hwv, seen.fwv, seen.blv = status.inited, version.hwv, version.fwv, version.blv
        return f"{version.hwv}, {version.fwv}; {'personalised' if status.inited else 'not personalised'}"

    def challenge(self, ctx: RunContext) -> str:
        if not self.facts.seen.inited:
            return "not personalised: the unit has no token challenge"
        try:
            challenge = self.client.token_challenge()
        except DeviceRefused as exc:  # 403: trusted time on and the clock lost at power-up (§5.1)
            if exc.status != 403 or self.client.status().time is not None:
                raise
            note = set_clock(self.client, self.deps.backend)
            self.facts.notes += [note] if note not in self.facts.notes else []
            challenge = self.client.token_challenge()
        self.facts.seen.eid, self.facts.seen.lbl = challenge.eid, challenge.lbl
        return f"eid {challenge.eid}, label {challenge.lbl!r}"

    def attest(self, ctx: RunContext) -> str:
        self._token = self._login() if self.facts.seen.inited else None
        attestation = self.client.attestation(self._token)
        genuine_id = genuine_id_of(attestation)
        self.facts.seen.genuine_id = genuine_id
        ctx.identified(genuine_id)
        if isinstance(attestation, FreshAttestation):
            raise StepFailed("not-provisioned", self._blank(genuine_id))
        self._check_attestation(attestation)
        if self._token is None:
            return f"secure element {genuine_id}; the unit is not personalised, so no configuration to read"
        config = self.client.config(self._token)
        seen = self.facts.seen
        seen.devid, seen.config_eid, seen.config_genuine_id = config.devid, config.eid, config.genuine_id
        seen.eid_sign, seen.instanceid = config.eid_sign, config.instanceid
        ctx.identified(config.devid)
        return f"secure element {genuine_id}, devid {config.devid}"

    # --- the record and the verdict -----------------------------------------------------------------------

    def record(self, ctx: RunContext) -> str:
        seen = self.facts.seen
        try:
            found = find_unit_record(self.deps.sources, devid=seen.devid, genuine_id=seen.genuine_id)
        except RecordMissing as exc:
            self.facts.verifies = exc.entry.record_id
            raise StepFailed("record-invalid", f"{exc}; call the line engineer") from None
        if found is None:
            raise StepFailed("no-record", self._no_record())
        self.facts.found, self.facts.verifies = found, found.latest.stored.record_id
        reason = check_found(found, self._ca_certificate())
        if reason is not None:
            raise StepFailed(
                "record-invalid", f"{reason}; the record cannot be trusted: call the line engineer"
            )
        latest = found.latest
        stored = latest.stored
        self.facts.details["record"] = {
            "record_id": stored.record_id,
            "mode": stored.mode,
            "station": stored.station_id,
            "seq": stored.seq,
            "source": latest.source.name,
        }
        return f"{latest.name} from {latest.source.name}: signature, chain links and certificate verified"

    def compare(self, ctx: RunContext) -> str:
        found = self.facts.found
        assert found is not None  # the record step passed
        findings, notes = compare(self.facts.seen, found.latest.stored.parsed)
        findings = self.facts.attestation + _devid_owner(findings, found)
        notes = self.facts.notes + notes
        self.facts.details["compare"] = {
            "mismatches": [finding.as_dict() for finding in findings],
            "notes": notes,
            "crt_sha256": self.facts.seen.crt_sha256,
            "attestation_key_sha1": self.facts.seen.attestation_key_sha1,
            "lbl": self.facts.seen.lbl,
        }
        name = found.latest.name
        if findings:
            listed = "; ".join(str(finding) for finding in findings)
            raise StepFailed("mismatch", f"{len(findings)} mismatch(es) with {name}: {listed}")
        return f"the unit matches {name}" + (f" ({'; '.join(notes)})" if notes else "")

    # --- helpers -------------------------------------------------------------------------------------------

    def _login(self) -> str:
        """Log in read-only: with the passphrase sealed in the unit's record (escrow key), else batch's."""
        eid = self.facts.seen.eid
        assert eid is not None  # the challenge step read it
        deps = self.deps
        if deps.escrow is not None:
            found = sealed_record(deps.sources, eid)
            if found is not None:
                return self._sealed_login(found, eid, deps.escrow)
            if deps.user_key is None:
                places = " or ".join(source.name for source in deps.sources)
                raise StepFailed(
                    "no-credentials",
                    f"no record of this unit's instance (eid {eid}) in {places} holds sealed secrets, and "
                    f"profile {deps.profile_name!r} has no batch secrets: the unit was not personalised on "
                    "this line, or with a batch profile (run QA with that profile)",
                )
        return login(
            self.client, deps.user_key, eid, profile_name=deps.profile_name, kdf_slots=deps.kdf_slots
        )

    def _sealed_login(self, found: Located, eid: str, escrow: EscrowKey) -> str:
        key = sealed_user_key(found, eid, escrow, self.deps.kdf_slots)
        self.facts.details.setdefault("attest", {})["login"] = {
            "secrets": "sealed",
            "record_id": found.stored.record_id,
            "escrow_key_id": escrow.key_id,
        }
        refused = (
            f"the unit refused a login with the passphrase sealed in {found.name}: its owner changed it, or "
            "the unit was personalised again since; set it aside for the line engineer"
        )
        return login_with(self.client, key, refused=refused)

    def _check_attestation(self, attestation: ProvisionedAttestation) -> None:
        der = codec.b64decode(attestation.crt)
        certificate = attestation.certificate
        seen = self.facts.seen
        seen.crt_sha256 = hashlib.sha256(der).hexdigest()
        key = certificate.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            seen.attestation_key_sha1 = protocol.attestation_ski(key).hex()
        ca = self._ca_certificate()
        self.facts.attestation = attestation_findings(
            certificate, attestation.genuine, now=self._device_time(), ca=ca
        )
        if not any(finding.field.startswith("crt.") for finding in self.facts.attestation):
            self.facts.crt_der = der
        if self.facts.attestation:
            findings = [finding.as_dict() for finding in self.facts.attestation]
            self.facts.details.setdefault("attest", {})["findings"] = findings

    def _no_record(self) -> str:
        """No passing production or RMA record: say whether the line knows the unit at all."""
        seen, sources = self.facts.seen, self.deps.sources
        unit = f"devid {seen.devid}, secure element {seen.genuine_id}"
        others = unit_records(sources, devid=seen.devid, genuine_id=seen.genuine_id)
        if not others:
            places = " or ".join(source.name for source in sources)
            return f"no record of this unit ({unit}) in {places}: it was not made or repaired on this line"
        last = others[-1]
        return (
            f"no passing production or RMA record of this unit ({unit}); its last of {len(others)} "
            f"record(s) is {last.record_id} ({last.mode}, {last.outcome}): set it aside for the line engineer"
        )

    def _blank(self, genuine_id: str) -> str:
        message = f"the secure element {genuine_id} is blank: this unit was never provisioned"
        entry = registry_entry(self.deps.sources, genuine_id=genuine_id)
        if entry is None:
            return message
        self.facts.verifies = entry.record_id
        return f"{message}, yet record {entry.record_id} says it was; set it aside for the line engineer"

    def _device_time(self) -> int:
        """The unit's own clock: real time after a check-in, else seconds since boot (§18.1)."""
        status = self.client.status()
        return status.time if status.time is not None else status.uptime

    def _ca_certificate(self) -> x509.Certificate:
        if self._ca is None:
            self._ca = self.deps.backend.ca_certificate()
        return self._ca

    def _evidence(self) -> model.ProvisioningEvidence | None:
        seen, der = self.facts.seen, self.facts.crt_der
        if der is None or seen.attestation_key_sha1 is None:
            return None
        return model.ProvisioningEvidence.from_der(
            der, attestation_key_sha1=seen.attestation_key_sha1, refusal_status=None
        )


def _devid_owner(findings: list[Finding], found: FoundRecord) -> list[Finding]:
    """Say whose devid it is when the unit's devid is registered to another unit's record."""
    owner = found.devid_owner
    if owner is None:
        return findings
    why = f"that devid is registered to record {owner.record_id} (secure element {owner.genuine_id})"
    return [Finding(f.field, f.recorded, f.found, why) if f.field == "devid" else f for f in findings]
