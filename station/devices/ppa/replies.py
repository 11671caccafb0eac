"""Typed replies of the PPA REST API, parsed strictly from the unit's JSON (reference §2-§8).

>>> body = ReplyBody.decode("GET", "/api/system/status", b'{"ctx":0,"uptime":9,"temp":31.5,"fls_state":0}')
>>> Status.parse(body).inited, Status.parse(body).time   # "inited" absent: personalised; no "time": RTC unset
(True, None)
>>> Status.parse(ReplyBody.decode("GET", "/api/system/status", b'{"ctx": 0}'))
Traceback (most recent call last):
station.core.errors.DeviceProtocolError: GET /api/system/status: reply field 'uptime' is missing
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from station.core.codec import b64decode
from station.core.errors import VerificationError
from station.devices.ppa.wire import ReplyBody

_LOG_ID = re.compile(r"^[0-9a-f]{8}$")

# Device strings are printable ASCII of at most ``devices.http.DEVICE_TEXT_MAX`` (128) characters, except:
HOSTNAME_MAX = 253  # an RFC 1123 name (reference §18: cfg ``hostname``)
EMAIL_MAX = 254  # an address as SMTP bounds it (RFC 5321)
ORIGIN_MAX = 300  # ``*`` or scheme://host[:port], the host an RFC 1123 name
TOKEN_MAX = 4096  # a compact JWT (bearer token, check-in ``check``): a few claims, never shown
# ``user``/``lbl`` is the label the operator configured (at most 32 characters, reference §18); the unit
# echoes it, and the configuration allows non-ASCII, so it is held to "printable", not to ASCII.
LABEL_MAX = 128


class CheckState(enum.Enum):
    """Firmware verification task, by the status code of ``GET .../check_fw`` (reference §8)."""

    STARTED = 201
    RUNNING = 202
    VERIFIED = 200
    FAILED = 406


@dataclass(frozen=True)
class Status:
    """``GET /api/system/status`` (§2.1). ``time``/``ts`` are None while the RTC is unset."""

    ctx: int
    uptime: int
    temp: float
    fls_state: int
    time: int | None
    ts: str | None
    inited: bool  # sent (false) only when not personalised
    https: bool | None  # sent over plain HTTP only
    hostname: str | None  # the configured hostname, sent when the request's Host differs
    tts: bool  # trusted time: sent (false) only when the option is off
    storage: tuple[str, ...]  # PPA: ["<sectors>:<rw|ro|->", ...], Disk0 then Disk1
    format: str | None  # "status<N>" while the disks format after personalisation, then "done"
    fw_upgrade: bool  # true only on the first boot after a firmware install

    @classmethod
    def parse(cls, body: ReplyBody) -> Status:
        return cls(
            ctx=body.integer("ctx"),
            uptime=body.integer("uptime"),
            temp=body.number("temp"),
            fls_state=body.integer("fls_state"),
            time=body.opt_integer("time"),
            ts=body.opt_device_text("ts"),
            inited=body.flag("inited", absent=True),
            https=body.opt_flag("https"),
            hostname=body.opt_device_text("hostname", HOSTNAME_MAX),
            tts=body.flag("tts", absent=True),
            storage=body.device_texts("storage", absent=()),
            format=body.opt_device_text("format"),
            fw_upgrade=body.flag("fw_upgrade", absent=False),
        )


@dataclass(frozen=True)
class SelfTest:
    """``GET /api/system/selftest`` (§2.5): the unit's own self-test (KAT, entropy, secure element).

    ``kat_busy`` is sent (true) only while the known-answer tests still run: the verdict comes after.
    ``se_state`` is the secure element's state (PPA only; 0 healthy, absent on an EPA).
    """

    fls_state: int
    kat_busy: bool
    se_state: int | None
    selftest_ts: int | None
    last_kat_ts: int | None
    last_entropytest_ts: int | None

    @classmethod
    def parse(cls, body: ReplyBody) -> SelfTest:
        return cls(
            fls_state=body.integer("fls_state"),
            kat_busy=body.flag("kat_busy", absent=False),
            se_state=body.opt_integer("se_state"),
            selftest_ts=body.opt_integer("selftest_ts"),
            last_kat_ts=body.opt_integer("last_kat_ts"),
            last_entropytest_ts=body.opt_integer("last_entropytest_ts"),
        )

    def public(self) -> dict[str, int | None]:
        """What a record keeps of it (public values: states and unit timestamps)."""
        return {
            "fls_state": self.fls_state,
            "se_state": self.se_state,
            "selftest_ts": self.selftest_ts,
            "last_kat_ts": self.last_kat_ts,
            "last_entropytest_ts": self.last_entropytest_ts,
        }


@dataclass(frozen=True)
class Version:
    """``GET /api/system/version`` (§2.2): hardware, firmware, bootloader and web-app identity."""

    hwv: str
    fwv: str
    fwk: str  # base64 Ed25519 firmware vendor key (32 bytes)
    fws: str  # base64 signature of the installed firmware (64 bytes)
    blv: str | None
    blk: str | None
    bls: str | None
    uis: str | None
    sd_csd: str | None
    sd_cid: str | None

    @classmethod
    def parse(cls, body: ReplyBody) -> Version:
        return cls(
            hwv=body.device_text("hwv", empty=False),
            fwv=body.device_text("fwv", empty=False),
            fwk=body.base64("fwk", 32),
            fws=body.base64("fws", 64),
            blv=body.opt_device_text("blv"),
            blk=body.opt_base64("blk", 32),
            bls=body.opt_base64("bls", 64),
            uis=body.opt_base64("uis", 32),
            sd_csd=body.opt_device_text("sd_csd"),
            sd_cid=body.opt_device_text("sd_cid"),
        )


@dataclass(frozen=True)
class CheckinResult:
    """``POST /api/system/checkin`` (§6.3): the action carried out (``OK``, ``L``, ``W``... or ``???``)."""

    status: str
    newcrt: str | None
    newfws: str | None
    newuis: str | None

    @classmethod
    def parse(cls, body: ReplyBody) -> CheckinResult:
        return cls(
            body.device_text("status"),
            body.opt_text("newcrt"),
            body.opt_text("newfws"),
            body.opt_text("newuis"),
        )


@dataclass(frozen=True)
class FreshAttestation:
    """Attestation of a blank secure element (§3.4): a CSR and the key, for the factory CA."""

    csr: str  # PEM certificate request
    key: str  # base64 DER SubjectPublicKeyInfo of the P-256 attestation key
    genuine: str

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        key = serialization.load_der_public_key(b64decode(self.key))
        assert isinstance(key, ec.EllipticCurvePublicKey)  # checked when parsed
        return key


@dataclass(frozen=True)
class ProvisionedAttestation:
    """Attestation of a provisioned secure element (§3.4): its certificate."""

    crt: str  # base64 DER device certificate
    genuine: str

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(b64decode(self.crt))


Attestation: TypeAlias = FreshAttestation | ProvisionedAttestation


def parse_attestation(body: ReplyBody) -> Attestation:
    """``{crt, genuine}`` once provisioned, else ``{csr, key, genuine}``; each part checked to load."""
    genuine = body.genuine()
    if "crt" in body.data:
        crt = body.base64("crt")
        try:
            x509.load_der_x509_certificate(b64decode(crt))
        except ValueError:
            raise body.error("crt", "is not a DER certificate") from None
        return ProvisionedAttestation(crt, genuine)
    if "csr" not in body.data:
        raise body.error("csr", "is missing (and there is no crt either)")
    attestation = FreshAttestation(body.text("csr"), body.base64("key"), genuine)
    try:
        x509.load_pem_x509_csr(attestation.csr.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise body.error("csr", "is not a PEM certificate request") from None
    try:
        key = serialization.load_der_public_key(b64decode(attestation.key))
    except ValueError:
        raise body.error("key", "is not a DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise body.error("key", "is not a P-256 public key")
    return attestation


@dataclass(frozen=True)
class InitChallenge:
    """``GET /api/auth/init`` (§4.1). ``exp`` = device time + 60 s; ``genuine`` is stamped with it."""

    eid: str
    spk: str
    jti: str
    exp: int
    genuine: str

    @classmethod
    def parse(cls, body: ReplyBody) -> InitChallenge:
        return cls(
            eid=body.base64("eid", 32),
            spk=body.base64("spk", 32),
            jti=body.base64("jti"),
            exp=body.integer("exp"),
            genuine=body.genuine(),
        )


@dataclass(frozen=True)
class InitResult:
    """``POST /api/auth/init`` (§4.2): the unit is personalised; ``token`` is an 8 h system:config token."""

    instanceid: str
    token: str
    genuine: str | None
    reboot_required: bool
    csr: str | None

    @classmethod
    def parse(cls, body: ReplyBody) -> InitResult:
        return cls(
            instanceid=body.device_text("instanceid"),
            token=body.device_text("token", TOKEN_MAX),
            genuine=body.opt_genuine(),
            reboot_required=body.flag("reboot_required", absent=False),
            csr=body.opt_text("csr"),
        )


@dataclass(frozen=True)
class TokenChallenge:
    """``GET /api/auth/token`` (§5.1): ``exp`` = device time + 60 s, ``lbl`` the configured user label."""

    exp: int
    spk: str
    jti: str
    lbl: str
    eid: str

    @classmethod
    def parse(cls, body: ReplyBody) -> TokenChallenge:
        return cls(
            exp=body.integer("exp"),
            spk=body.base64("spk", 32),
            jti=body.base64("jti"),
            lbl=body.device_text("lbl", LABEL_MAX, ascii_only=False),
            eid=body.base64("eid", 32),
        )


@dataclass(frozen=True)
class UnitConfig:
    """``GET /api/system/config`` (§3.1), PPA fields included; ``spk``/``nonce`` serve a key rotation."""

    iat: int
    uts: int
    devid: str
    instanceid: str | None
    eid: str
    eid_sign: str
    user: str
    email: str
    hostname: str
    dnsd: bool
    trusted_ts: bool
    trusted_backend: bool
    allow_keysearch: bool
    origin: str
    ctx: int
    http_option_hsts: bool
    http_option_dosprot_mode: int
    ip: str
    genuine_id: str
    storage_mode: int
    storage_disk0size: int
    storage_capacity: int
    spk: str
    nonce: str

    @classmethod
    def parse(cls, body: ReplyBody) -> UnitConfig:
        return cls(
            iat=body.integer("iat"),
            uts=body.integer("uts"),
            devid=body.hex_text("devid", 8),
            instanceid=body.opt_device_text("instanceid"),
            eid=body.base64("eid", 32),
            eid_sign=body.base64("eid_sign", 32),
            user=body.device_text("user", LABEL_MAX, ascii_only=False),
            email=body.device_text("email", EMAIL_MAX, ascii_only=False),
            hostname=body.device_text("hostname", HOSTNAME_MAX),
            dnsd=body.flag("dnsd"),
            trusted_ts=body.flag("trusted_ts"),
            trusted_backend=body.flag("trusted_backend"),
            allow_keysearch=body.flag("allow_keysearch"),
            origin=body.device_text("origin", ORIGIN_MAX),
            ctx=body.integer("ctx"),
            http_option_hsts=body.flag("http_option_hsts"),
            http_option_dosprot_mode=body.integer("http_option_dosprot_mode"),
            ip=body.device_text("ip"),
            genuine_id=body.hex_text("genuine_id"),
            storage_mode=body.integer("storage_mode"),
            storage_disk0size=body.integer("storage_disk0size"),
            storage_capacity=body.integer("storage_capacity"),
            spk=body.base64("spk", 32),
            nonce=body.base64("nonce"),
        )


@dataclass(frozen=True)
class ConfigUpdate:
    """``POST /api/system/config`` (§3.2). A fresh unit's TLS install answers an empty 200 (see client)."""

    updated: bool
    reboot_required: bool
    csr: str | None
    genuine: str | None

    @classmethod
    def parse(cls, body: ReplyBody) -> ConfigUpdate:
        return cls(
            updated=body.flag("updated"),
            reboot_required=body.flag("reboot_required", absent=False),
            csr=body.opt_text("csr"),
            genuine=body.opt_genuine(),
        )


@dataclass(frozen=True)
class LoggerKey:
    """``GET /api/logger/key`` (§7.1): the ``eid_sign`` key and a fresh nonce it signed."""

    key: str
    nonce: str
    nonce_signed: str

    @classmethod
    def parse(cls, body: ReplyBody) -> LoggerKey:
        return cls(body.base64("key", 32), body.base64("nonce", 32), body.base64("nonce_signed", 64))

    def verify(self) -> None:
        """Raise VerificationError unless ``nonce_signed`` is the key's signature of the raw nonce."""
        try:
            public = ed25519.Ed25519PublicKey.from_public_bytes(b64decode(self.key))
            public.verify(b64decode(self.nonce_signed), b64decode(self.nonce))
        except (InvalidSignature, ValueError):
            raise VerificationError("audit-log key did not sign its nonce") from None


@dataclass(frozen=True)
class LoggerList:
    """``GET /api/logger/list[/offset]`` (§7.2): one page of file ids (8 hex digits), ``total`` in all."""

    total: int
    ids: tuple[str, ...]

    @classmethod
    def parse(cls, body: ReplyBody) -> LoggerList:
        ids = body.texts("id")
        for index, file_id in enumerate(ids):
            if not _LOG_ID.match(file_id):
                raise body.error("id", f"item {index} is not 8 lowercase hex digits")
        return cls(body.integer("total"), ids)
