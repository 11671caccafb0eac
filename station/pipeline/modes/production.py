"""The production flow: a fresh unit in; a provisioned, personalised and verified unit out.

Each step reads the unit's real state first, so the same flow resumes a run that a crash interrupted.

>>> [step.name for step in ProductionFlow(client=None, deps=None).plan()]   # a plan needs no unit yet
['identify', 'firmware', 'check-in', 'attest', 'certificate', 'provision', 'verify-lock',
 'personalize', 'verify']
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from station.core import codec
from station.core.config import Profile
from station.core.errors import DeviceRefused, RecordError, VerificationError
from station.devices.ppa import protocol
from station.devices.ppa.client import UPLOAD_TIMEOUT, PpaClient
from station.devices.ppa.replies import FreshAttestation, ProvisionedAttestation, SelfTest, Status
from station.factory.backend import Backend
from station.factory.ca import verify_device_certificate
from station.factory.firmware import FirmwareCatalog, needs_upgrade
from station.factory.keys.secrets import UnitKeys, UnitSecrets, derive_keys
from station.pipeline import restarts
from station.pipeline.drafts import RunFrame, StepDetails, record_draft
from station.pipeline.engine import SAFE_RETRY, Group, RunContext, RunResult, Step, StepFailed
from station.pipeline.kdf import KDF_SLOTS
from station.pipeline.restarts import UnitWaits
from station.pipeline.selftest import await_selftest
from station.records import model
from station.records.entries import RegistryEntry, StoredRecord

FLS_BITS = {
    0x01: "self-test (KAT) failure",
    0x02: "entropy failure",
    0x04: "temperature out of range",
    0x08: "data integrity failure",
    0x10: "memory allocation failure",
    0x20: "stack overflow",
    0x40: "locked by the backend",
    0x80: "shut down by the backend",
}
CFG_FIELDS = (
    "user",
    "email",
    "hostname",
    "ip",
    "storage_mode",
    "storage_disk0size",
    "dnsd",
    "trusted_ts",
    "trusted_backend",
    "allow_keysearch",
    "origin",
    "ctx",
)
REBOOT_POLL = 0.25  # RMA's wait for a wiped unit (production's restarts are awaited in restarts.py)
PERSONALIZE_WORK = 120.0  # seconds personalize needs besides its waits (key derivation, init, check-in)


@dataclass
class Prior:
    """What the journal says an interrupted run already wrote to its unit."""

    crt_sha256: str | None = None
    crt_der: bytes | None = None
    genuine_id: str | None = None
    personalised_eid: str | None = None
    personalization: dict[str, Any] | None = None


class FindProduction(Protocol):
    """The unit registry lookup (local store, then the line database when configured)."""

    def __call__(self, devid: str | None = None, genuine_id: str | None = None) -> RegistryEntry | None: ...


@dataclass
class ProductionDeps:
    """Everything the flow needs besides the unit: the factory authority, records, policy."""

    backend: Backend
    find_production: FindProduction
    profile_name: str
    profile: Profile
    new_secrets: Callable[[], UnitSecrets]
    seal: Callable[[UnitSecrets, str], dict[str, Any] | None]  # None: the batch policy seals nothing
    firmware: FirmwareCatalog | None = None
    required_fwv: str | None = None
    # At most this many 600 000-round key derivations at once: more threads than cores only make every
    # slot's personalisation slower (measured: 32 slots, 0.76 → 0.85 parallel efficiency).
    kdf_slots: threading.Semaphore = KDF_SLOTS  # process-wide (kdf.py), shared by every slot's deps
    # The newest record of the unit this station personalised as ``eid`` (``passed.newest_known``): a
    # personalised unit shows its eid, not its devid, and its refusal should still name the unit.
    unit_of_eid: Callable[[str], StoredRecord | None] | None = None
    waits: UnitWaits | None = None  # None: the station's (``restarts.WAITS``)


@dataclass
class UnitFacts:
    """Public facts the flow learns, in the shape the record needs. Secrets live in ``_keys`` only."""

    hwv: str | None = None
    fwv: str | None = None
    blv: str | None = None
    fwk: str | None = None
    genuine_id: str | None = None
    devid: str | None = None
    eid: str | None = None
    eid_sign: str | None = None
    instanceid: str | None = None
    attestation_key_sha1: str | None = None
    crt_der: bytes | None = None  # the certificate read back from the unit's attestation: what it holds
    issued_der: bytes | None = None  # the certificate this run's CA issued for the unit
    sent_der: bytes | None = None  # sent in a provisioning request and not read back yet
    refusal_status: int | None = None
    personalization: dict[str, Any] | None = None
    selftest: dict[str, Any] | None = None  # the unit's own self-test, as the final check read it
    _attestation: FreshAttestation | None = field(default=None, repr=False)
    _keys: UnitKeys | None = field(default=None, repr=False)

    @property
    def unit_id(self) -> str | None:
        return self.devid or self.genuine_id


class ProductionFlow:
    """The steps of one production run over one unit (a ``flow.Flow``)."""

    mode = "production"

    def __init__(self, client: PpaClient, deps: ProductionDeps, prior: Prior | None = None) -> None:
        self.client = client
        self.deps = deps
        self.prior = prior or Prior()
        self.facts = UnitFacts()
        self.waits = (deps.waits if deps is not None else None) or restarts.WAITS

    @property
    def unit_id(self) -> str | None:
        return self.facts.unit_id

    def draft(self, result: RunResult, frame: RunFrame) -> model.RecordDraft:
        return facts_draft(self.facts, result, frame)

    def plan(self) -> list[Step | Group]:
        waits = self.waits
        # The steps that wait for the unit outlast their waits, so a verdict names the wait that ran out.
        firmware = UPLOAD_TIMEOUT + waits.check + waits.install + 60
        personalize = PERSONALIZE_WORK + waits.reboot + waits.format
        return [
            Step("identify", self.identify, timeout=30, retry=SAFE_RETRY),
            Step("firmware", self.firmware, timeout=firmware, writes=True),
            Group("check-in", (Step("check-in", self.checkin, timeout=30, retry=SAFE_RETRY),)),
            Step("attest", self.attest, timeout=30, retry=SAFE_RETRY),
            Step("certificate", self.certificate, timeout=30),
            Step("provision", self.provision, timeout=30, writes=True),
            Step("verify-lock", self.verify_lock, timeout=30, retry=SAFE_RETRY),
            Step("personalize", self.personalize, timeout=personalize, writes=True),
            Step("verify", self.verify, timeout=120, retry=SAFE_RETRY),  # self-test: up to 60 s more
        ]

    # --- identify and firmware -------------------------------------------------------------------------

    def identify(self, ctx: RunContext) -> str:
        status = self.client.status()
        refuse_fail_state(status)
        described = self.read_version()
        if status.inited:
            self._refuse_personalised()
        return described

    def read_version(self) -> str:
        """The unit's hardware and firmware into ``facts`` (an EPA is refused); "<hwv>, <fwv>"."""
        version = self.client.version()
        if "EPA" in version.hwv:
            raise StepFailed("wrong-product", f"this is an EPA ({version.hwv}), not a PPA; set it aside")
        self.facts.hwv, self.facts.fwv, self.facts.blv, self.facts.fwk = (
            version.hwv,
            version.fwv,
            version.blv,
            version.fwk,
        )
        return f"{version.hwv}, {version.fwv}"

    def _refuse_personalised(self) -> None:
        """A personalised unit is never production-fresh; say whether this run personalised it.

        The record names what the unit shows without a login (the ``eid`` of its token challenge) and,
        when this station's records know that ``eid``, the unit they name.
        """
        prior = self.prior
        if prior.personalised_eid is not None:
            eid: str | None = self.client.token_challenge().eid
            if eid == prior.personalised_eid:
                self.facts.eid, self.facts.genuine_id = prior.personalised_eid, prior.genuine_id
                self.facts.personalization = prior.personalization
                self.facts.crt_der = prior.crt_der
                raise StepFailed(
                    "personalised-before-interruption",
                    "the unit was personalised before the station stopped; its keys are sealed in this "
                    "record; send it to QA verification",
                )
        else:
            eid = self._shown_eid()
        self.facts.eid = eid
        known = self._known_as(eid)
        raise StepFailed(
            "already-personalised",
            f"the unit is already personalised{known}, so it is not factory-fresh; send it to QA or RMA",
        )

    def _shown_eid(self) -> str | None:
        """The ``eid`` of the unit's token challenge; None if the unit refuses it (e.g. its clock is unset
        since a reboot and it trusts only a set clock): the refusal then names less, but still refuses."""
        try:
            return self.client.token_challenge().eid
        except DeviceRefused:
            return None

    def _known_as(self, eid: str | None) -> str:
        """Take the devid and secure element of the unit this station's records know as ``eid`` into the
        facts; a phrase naming that unit and its newest record ("" when none is known)."""
        finder = self.deps.unit_of_eid
        if eid is None or finder is None:
            return ""
        try:
            known = finder(eid)
        except RecordError:
            return ""  # the refusal stands; the record names the eid only
        if known is None:
            return ""
        self.facts.devid, self.facts.genuine_id = known.devid, known.genuine_id
        return f" (unit {known.devid or known.genuine_id}, last recorded in {known.record_id})"

    def firmware(self, ctx: RunContext) -> str:
        required, catalog = self.deps.required_fwv, self.deps.firmware
        current = self.facts.fwv or ""
        if required is None or not needs_upgrade(current, required):
            return f"{current} meets the requirement" if required else "no firmware requirement"
        if catalog is None:
            raise StepFailed(
                "no-firmware", f"unit has {current}, {required} is required, no images configured"
            )
        image = catalog.image_for(required)  # newest signed image >= required > current: never a downgrade
        try:
            data = catalog.read(image)  # the signed entry's size and SHA-256, checked on these bytes
        except VerificationError as exc:
            raise StepFailed("image-changed", f"{exc}; nothing was uploaded") from None
        ctx.intent({"firmware": image.fwv, "sha256": image.sha256, "file": image.file})
        self.client.upload_firmware(data)
        self._await_firmware_check(ctx)  # the unit's own verification of the image: the real check
        self.client.install_firmware()
        self._await_reboot(ctx, expect_upgrade=True)
        version = self.client.version()
        if version.fwv != image.fwv or (
            image.fws and codec.b64decode(version.fws) != codec.b64decode(image.fws)
        ):
            raise StepFailed(
                "upgrade-failed",
                f"unit runs {version.fwv} (fws {version.fws}) after installing {image.file}: {image.fwv}"
                + (f" (fws {image.fws})" if image.fws else ""),
            )
        self.facts.fwv = version.fwv
        return f"upgraded {current} → {version.fwv} ({image.file})"

    def _await_firmware_check(self, ctx: RunContext) -> None:
        """The unit's own check of the uploaded image (201, 202 ..., then 200 or 406), polled every few
        seconds up to its deadline."""
        restarts.await_check(ctx, self.client, waits=self.waits)

    def _await_reboot(
        self, ctx: RunContext, *, expect_upgrade: bool = False, before: Status | None = None
    ) -> Status:
        """The new boot's status after a reboot (or, ``expect_upgrade``, a firmware install) the unit just
        answered 200: the old boot first ends, then the new one answers (``restarts.await_restart``).
        ``before``: the old boot's status, read before the command."""
        waits = self.waits
        what, deadline = (
            ("its firmware install", waits.install) if expect_upgrade else ("its reboot", waits.reboot)
        )
        status = restarts.await_restart(
            ctx, self.client, what=what, deadline=deadline, waits=waits, before=before, install=expect_upgrade
        )
        if expect_upgrade and not status.fw_upgrade:
            raise StepFailed("upgrade-failed", "the unit rebooted without reporting a firmware upgrade")
        return status

    # --- check-in, attestation, certificate, provisioning ----------------------------------------------

    def checkin(self, ctx: RunContext) -> str:
        checked = self.deps.backend.checkin(self.client.checkin_request())
        result = self.client.checkin(checked)
        if result.status != "OK":
            raise StepFailed("checkin-refused", f"the unit answered check-in with action {result.status!r}")
        status = self.client.status()
        if status.time is None:
            raise StepFailed("clock-not-set", "the unit accepted the check-in but its clock is still unset")
        return f"clock set to {status.ts}"

    def attest(self, ctx: RunContext) -> str:
        attestation = self.client.attestation()
        if isinstance(attestation, ProvisionedAttestation):
            return self._already_provisioned(attestation)
        self.facts.genuine_id = _genuine_id_of_csr(attestation.csr)
        ctx.identified(self.facts.genuine_id)
        now = self.device_time()
        try:
            protocol.verify_genuine(attestation.genuine, attestation.public_key, now=now)
        except VerificationError as exc:
            raise StepFailed("bad-genuine", f"the unit's attestation does not verify: {exc}") from None
        self.facts.attestation_key_sha1 = protocol.attestation_ski(attestation.public_key).hex()
        self.facts._attestation = attestation
        return f"secure element {self.facts.genuine_id} is blank; attestation verified"

    def _already_provisioned(self, attestation: ProvisionedAttestation) -> str:
        der = codec.b64decode(attestation.crt)
        certificate = attestation.certificate
        self.facts.genuine_id = _genuine_id_of_subject(certificate)
        if self.prior.crt_sha256 == hashlib.sha256(der).hexdigest():
            self.facts.crt_der = der
            self.facts.attestation_key_sha1 = _ski_hex(certificate)
            return "secure element already carries the certificate this run issued (resumed)"
        entry: RegistryEntry | None = self.deps.find_production(genuine_id=self.facts.genuine_id)
        if entry is not None:
            self.facts.devid = entry.devid  # the unit the registry knows: its refusal names it
            raise StepFailed(
                "already-provisioned",
                f"unit was provisioned earlier by station {entry.station_id}, record {entry.record_id} "
                f"({entry.provisioned_at}); send it to QA verification",
            )
        if self._issued_here(der):
            raise StepFailed(
                "provisioned-unfinished",
                "the secure element carries a certificate from this factory's CA, but no passing record: "
                "an earlier run provisioned it and did not finish; send it to RMA",
            )
        raise StepFailed(
            "foreign-certificate",
            "the secure element already carries a certificate that no record of this line explains; "
            "set the unit aside for QA",
        )

    def _issued_here(self, der: bytes) -> bool:
        """Whether the factory CA signed this certificate (an interrupted run of this line provisioned it)."""
        try:
            verify_device_certificate(der, self.deps.backend.ca_certificate())
        except VerificationError:
            return False
        return True

    def certificate(self, ctx: RunContext) -> str:
        if self.facts.crt_der is not None:
            return "certificate issued before the interruption"
        attestation = self.facts._attestation
        assert attestation is not None  # attest ran and found a blank secure element
        der = self.deps.backend.issue_device_certificate(
            attestation.csr, attestation.key, attestation.genuine
        )
        certificate = x509.load_der_x509_certificate(der)
        if _raw_point(certificate.public_key()) != _raw_point(attestation.public_key):
            raise StepFailed("wrong-certificate", "the backend issued a certificate for another key")
        self.facts.issued_der = der
        return f"certificate serial {certificate.serial_number:x} from {certificate.issuer.rfc4514_string()}"

    def provision(self, ctx: RunContext) -> str:
        """Send the issued certificate. A 200 says little (its body is not specified, and a garbled one
        reads as success), so the unit counts as provisioned only once ``verify_lock`` read it back."""
        attestation, der = self.facts._attestation, self.facts.issued_der
        if attestation is None:
            return "already provisioned by this run before the interruption"
        assert der is not None
        intent: dict[str, Any] = {
            "crt_sha256": hashlib.sha256(der).hexdigest(),
            "crt": codec.b64encode(der),
            "genuine_id": self.facts.genuine_id,
        }
        if self.client.simulated_unit:  # so a record closing this run without its unit still says so
            intent["simulated_unit"] = True
        ctx.intent(intent)
        self.facts.sent_der = der  # from here on the unit may hold it: the record says "not confirmed"
        self.client.provision(codec.b64encode(der), attestation.genuine)
        return "certificate sent to the secure element (read back next)"

    def verify_lock(self, ctx: RunContext) -> str:
        """Read the certificate back (the record's evidence is what the unit shows), then prove the lock."""
        issued = self.facts.issued_der if self.facts.issued_der is not None else self.facts.crt_der
        assert issued is not None
        attestation = self._read_back(issued)
        key = attestation.certificate.public_key()
        try:
            protocol.verify_genuine(attestation.genuine, key, now=self.device_time())  # type: ignore[arg-type]
        except VerificationError as exc:
            raise StepFailed(
                "bad-genuine", f"attestation after provisioning does not verify: {exc}"
            ) from None
        try:
            self.client.provision(codec.b64encode(issued), attestation.genuine)
        except DeviceRefused as exc:
            if exc.status != 406:
                raise
            self.facts.refusal_status = exc.status
            return "second provisioning refused with 406; attestation returns our certificate"
        raise StepFailed(
            "not-locked", "the unit accepted a second provisioning: its secure element is not locked"
        )

    def _read_back(self, issued: bytes) -> ProvisionedAttestation:
        """The unit's attestation after provisioning; the certificate it shows becomes the evidence."""
        attestation = self.client.attestation()
        self.facts.sent_der = None  # the read-back settles what the unit holds
        if not isinstance(attestation, ProvisionedAttestation):
            self.facts.crt_der = None
            serial = x509.load_der_x509_certificate(issued).serial_number
            raise StepFailed(
                "provisioning-unconfirmed",
                "provisioning unconfirmed: the unit answered the provisioning request, but its attestation "
                f"shows no certificate (certificate serial {serial:x} was issued for it and is not on the "
                "unit); this record carries no certificate; set the unit aside for QA",
            )
        held = codec.b64decode(attestation.crt)
        self.facts.crt_der, self.facts.attestation_key_sha1 = held, _ski_hex(attestation.certificate)
        if held != issued:
            raise StepFailed("not-locked", "attestation does not return the certificate the station wrote")
        return attestation

    # --- personalisation and verification ---------------------------------------------------------------

    def personalize(self, ctx: RunContext) -> str:
        challenge = self.client.init_challenge()
        secrets: UnitSecrets = self.deps.new_secrets()
        with self.deps.kdf_slots:
            keys = derive_keys(secrets, challenge.eid)
        masterkey, userkey = keys.public()
        cfg = {name: getattr(self.deps.profile, name) for name in CFG_FIELDS}
        cfg.update(masterkey=masterkey, userkey=userkey)
        if self.deps.profile.gen_csr:
            cfg["gen_csr"] = True
        public = {"profile": self.deps.profile_name, **cfg}
        sealed = self.deps.seal(secrets, self.facts.genuine_id or "")
        if sealed is not None:
            public["sealed_secrets"] = sealed
        ctx.intent({"eid": challenge.eid, "personalization": public})
        # From here on the unit trusts only a set clock for logins: a 403 of its token challenge (its
        # clock lost in a reboot) is answered with one check-in.
        self.client.clock_keeper = self._set_clock
        result = self.client.personalise(keys.master_private, cfg)
        self.facts.eid, self.facts.instanceid = challenge.eid, result.instanceid
        self.facts.personalization, self.facts._keys = public, keys
        done = f"personalised as {cfg['hostname']} with profile {self.deps.profile_name}"
        if result.reboot_required:
            before = self.client.status()
            self.client.reboot(result.token)
            self._await_reboot(ctx, before=before)
            self.checkin(ctx)  # the reboot lost the clock; nothing that needs it runs before this
            done += "; rebooted and checked in again"
        return f"{done}; {restarts.await_format(ctx, self.client, waits=self.waits)}"

    def _set_clock(self, client: PpaClient) -> None:
        """The clock keeper: one check-in that only sets the unit's clock (action OK)."""
        result = client.set_clock(self.deps.backend.checkin)
        if result.status != "OK":
            raise StepFailed("checkin-refused", f"the unit answered check-in with action {result.status!r}")

    def verify(self, ctx: RunContext) -> str:
        keys = self.facts._keys
        assert keys is not None  # personalize ran in this process (a resumed personalised unit stops earlier)
        token = self.client.login(keys.user_private, "system:config")
        config = self.client.config(token)
        mismatches = [
            f"{name}: unit has {getattr(config, name)!r}, profile says {getattr(self.deps.profile, name)!r}"
            for name in CFG_FIELDS
            if getattr(config, name) != getattr(self.deps.profile, name)
        ]
        if mismatches:
            raise StepFailed("config-mismatch", "; ".join(mismatches))
        masterkey = codec.b64decode(keys.public()[0])
        expected = protocol.derive_instanceid(masterkey, codec.b64decode(config.eid), config.devid)
        if config.eid != self.facts.eid or config.instanceid != expected or expected != self.facts.instanceid:
            raise StepFailed("identity-mismatch", "the unit's eid or instanceid is not the one personalised")
        if self.facts.genuine_id and config.genuine_id != self.facts.genuine_id:
            raise StepFailed("identity-mismatch", "the unit reports another secure element than it attested")
        self.facts.devid, self.facts.eid_sign = config.devid, config.eid_sign
        ctx.identified(config.devid)
        # The self-test runs on the token of this login, before the audit-log key's own login: a unit that
        # restarts meanwhile is answered at that login (one check-in), not with a 401 on a stale token here.
        self._judge_selftest(await_selftest(self.client, token, ctx))
        self._verify_log_key(config.eid_sign, keys)
        return f"login, configuration, identity, self-test and audit-log key verified for {config.devid}"

    def _judge_selftest(self, result: SelfTest) -> None:
        """The unit's own verdict on itself, last, before any PASS: a failed self-test (a latched
        ``fls_state``) or an unhealthy secure element fails the unit ``selftest``; recorded either way."""
        self.facts.selftest = {**result.public(), "passed": False}
        problems = []
        if result.fls_state:
            problems.append(f"fail state {result.fls_state:#04x} ({_fls_words(result.fls_state)})")
        if result.se_state not in (None, 0):
            problems.append(f"its secure element reports state {result.se_state} (healthy is 0)")
        if problems:
            raise StepFailed(
                "selftest",
                f"the unit's own self-test failed: {'; '.join(problems)}; set the unit aside for QA",
            )
        self.facts.selftest["passed"] = True

    def _verify_log_key(self, eid_sign: str, keys: UnitKeys) -> None:
        log_key = self.client.logger_key(self.client.login(keys.user_private, "logger:get"))
        if log_key.key != eid_sign:
            raise StepFailed("log-key-mismatch", "the audit-log key is not the unit's eid_sign key")
        try:
            log_key.verify()
        except VerificationError as exc:
            raise StepFailed("log-key-invalid", str(exc)) from None

    def device_time(self) -> int:
        """The unit's RTC (Unix time); StepFailed ``clock-not-set`` before a check-in set it."""
        status = self.client.status()
        if status.time is None:
            raise StepFailed("clock-not-set", "the unit's clock is not set (check-in lost?)")
        return status.time


def facts_draft(
    facts: UnitFacts,
    result: RunResult,
    frame: RunFrame,
    *,
    mode: str = "production",
    links: model.Links | None = None,
    details: StepDetails | None = None,
) -> model.RecordDraft:
    """The record of a run that drove a PPA through production's steps (production, and RMA on top);
    the unit's self-test goes into the ``verify`` step's detail (docs/records.md)."""
    if facts.selftest is not None:
        verify = {**(details or {}).get("verify", {}), "selftest": facts.selftest}
        details = {**(details or {}), "verify": verify}
    return record_draft(
        mode,
        result,
        frame,
        model.UnitIdentity(
            devid=facts.devid,
            genuine_id=facts.genuine_id,
            eid=facts.eid,
            eid_sign=facts.eid_sign,
            instanceid=facts.instanceid,
            hwv=facts.hwv,
            fwv=facts.fwv,
            blv=facts.blv,
        ),
        provisioning=_evidence(facts),
        personalization=facts.personalization,
        links=links,
        details=details,
    )


def _evidence(facts: UnitFacts) -> model.ProvisioningEvidence | None:
    """What the record says of the unit's certificate: read back (confirmed), or sent and never read
    back (a run that ended between the provisioning request and the read-back), or nothing."""
    if facts.crt_der is not None and facts.attestation_key_sha1 is not None:
        return model.ProvisioningEvidence.from_der(
            facts.crt_der,
            attestation_key_sha1=facts.attestation_key_sha1,
            refusal_status=facts.refusal_status,
        )
    if facts.sent_der is not None:
        return issued_evidence(facts.sent_der)
    return None


def issued_evidence(der: bytes) -> model.ProvisioningEvidence:
    """A certificate the station issued and sent, but never read back: "issued, not confirmed"."""
    certificate = x509.load_der_x509_certificate(der)
    return model.ProvisioningEvidence.from_der(
        der, attestation_key_sha1=_ski_hex(certificate), refusal_status=None, confirmed=False
    )


def refuse_fail_state(status: Status, *, advice: str = "; set it aside for QA") -> None:
    """A latched fail state (``fls_state`` bits, reference §2.1) ends the run: the unit is set aside."""
    if status.fls_state:
        raise StepFailed(
            "fail-state",
            f"the unit reports fail state {status.fls_state:#04x} ({_fls_words(status.fls_state)}){advice}",
        )


def _fls_words(fls_state: int) -> str:
    return ", ".join(text for bit, text in FLS_BITS.items() if fls_state & bit) or "unknown"


def genuine_id_of(attestation: FreshAttestation | ProvisionedAttestation) -> str:
    """The secure element's serial, from the CSR (blank) or the certificate (provisioned): CN ``#<id>``."""
    if isinstance(attestation, FreshAttestation):
        return _genuine_id_of_csr(attestation.csr)
    return _genuine_id_of_subject(attestation.certificate)


def _genuine_id_of_csr(csr_pem: str) -> str:
    csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    return _cn_serial(csr.subject)


def _genuine_id_of_subject(certificate: x509.Certificate) -> str:
    return _cn_serial(certificate.subject)


def _cn_serial(name: x509.Name) -> str:
    names = name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    value = str(names[0].value) if names else ""
    if not value.startswith("#"):
        raise StepFailed("bad-attestation", f"the secure element's name {value!r} is not '#<serial>'")
    return value[1:]


def _ski_hex(certificate: x509.Certificate) -> str:
    return protocol.attestation_ski(certificate.public_key()).hex()  # type: ignore[arg-type]


def _raw_point(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
