"""The simulated unit's state, split the way the hardware splits it (reference §16).

>>> import random
>>> state = PersistentState.fresh(random.Random(1)); state.config.user = "Ada"; state.initialised = True
>>> devid = state.hardware.devid; state.wipe()                    # a wipeout: the hardware stays
>>> state.config.user, state.initialised, state.hardware.devid == devid
('', False, True)
"""

from __future__ import annotations

import os
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from station.core.codec import b64encode
from station.devices.ppa.cfgspec import CARD_SECTORS
from station.devices.ppa.protocol import make_nonce
from station.sim.ppa.auditlog import AuditLog
from station.sim.ppa.identity import HardwareIdentity, InstanceKeys
from station.sim.ppa.selftest import KatRun

NONCE_LIFETIME = 60.0
NONCE_POOL_SIZE = 16
DEFAULT_FWV = "Encedo nGINE FW v1.2.2"
DEFAULT_BLV = "Encedo Secure Bootloader v2.0.1"
HWV = "PPA rev 2.2"
SD_CAPACITY_SECTORS = CARD_SECTORS  # a 64 GB card, in 512-byte sectors (the device table's)


@dataclass
class DeviceConfig:
    """Configuration fields of reference §3.1, with the fresh-device defaults of §18.11."""

    user: str = ""
    email: str = ""
    hostname: str = "my.ence.do"
    ip: str = "192.168.7.1/24"
    origin: str = "*"
    dnsd: bool = True
    trusted_ts: bool = False
    trusted_backend: bool = True
    allow_keysearch: bool = False
    ctx: int = 0
    http_option_hsts: bool = False
    http_option_dosprot_mode: int = 0
    storage_mode: int = 0x51
    storage_disk0size: int = 8_388_608
    masterkey: bytes | None = None
    userkey: bytes | None = None
    iat: int = 0
    uts: int = 0


@dataclass
class FirmwareState:
    """Installed images, and the one staged by ``upload_fw``/``upload_ui`` with its check task."""

    fwv: str = DEFAULT_FWV
    fws: bytes = field(default_factory=lambda: os.urandom(64))
    blv: str = DEFAULT_BLV
    blk: bytes = field(default_factory=lambda: os.urandom(32))
    bls: bytes = field(default_factory=lambda: os.urandom(64))
    uis: bytes = field(default_factory=lambda: os.urandom(32))
    staged: dict[str, StagedImage] = field(default_factory=dict)
    pending_install: StagedImage | None = None


@dataclass
class StagedImage:
    """An uploaded image and its verification task: none → running → ok | failed."""

    kind: str  # "fw" or "ui"
    filename: str
    data: bytes
    task: str = "none"
    task_started: float = 0.0
    polled_running: bool = False
    version: str = ""
    signature: bytes = b""


@dataclass
class PersistentState:
    """Everything the unit keeps across power cycles."""

    hardware: HardwareIdentity
    instance: InstanceKeys
    config: DeviceConfig = field(default_factory=DeviceConfig)
    initialised: bool = False
    instanceid: str | None = None
    se_certificate: bytes | None = None
    tls_bundle: dict[str, Any] | None = None
    tls_key: ec.EllipticCurvePrivateKey | None = None  # made on the unit by ``gen_csr``; kept by a wipe
    fls_state: int = 0
    boot_counter: int = 0
    format_owed: bool = False  # a storage format started and not finished: the next boot starts it again
    firmware: FirmwareState = field(default_factory=FirmwareState)
    log: AuditLog = field(default_factory=lambda: AuditLog(DEFAULT_FWV))
    shut_down: bool = False

    @classmethod
    def fresh(cls, rng: random.Random) -> PersistentState:
        return cls(HardwareIdentity.generate(rng), InstanceKeys.generate())

    def wipe(self) -> None:
        """Factory reset: configuration, keys, ``instanceid``, logs, ``fls_state``; new instance keys."""
        self.config = DeviceConfig()
        self.initialised = False
        self.instanceid = None
        self.fls_state = 0
        self.instance = InstanceKeys.generate()
        self.log.clear()
        self.format_owed = False  # the wipe reformats the card itself, before its restart (reference §3.7)


class NoncePool:
    """Outstanding single-use nonces of one purpose: 60 s lifetime, 16 kept, oldest dropped."""

    def __init__(self) -> None:
        self._issued: deque[tuple[str, float]] = deque(maxlen=NONCE_POOL_SIZE)

    def issue(self, device_time: int, mono: float) -> str:
        nonce = b64encode(make_nonce(device_time, os.urandom(28)))
        self._issued.append((nonce, mono))
        return nonce

    def take(self, nonce: object, mono: float) -> bool:
        """Use up ``nonce``; True only if it was outstanding and younger than 60 s."""
        for entry in self._issued:
            if entry[0] == nonce:
                self._issued.remove(entry)
                return mono - entry[1] <= NONCE_LIFETIME
        return False


@dataclass
class BootState:
    """Per-boot state: session keys, nonces, storage visibility, format progress."""

    session_key: x25519.X25519PrivateKey = field(default_factory=x25519.X25519PrivateKey.generate)
    token_key: bytes = field(default_factory=lambda: os.urandom(32))
    nonces: dict[str, NoncePool] = field(
        default_factory=lambda: {p: NoncePool() for p in ("check", "init", "token", "config", "logger")}
    )
    fw_upgraded: bool = False
    disk_modes: list[str] = field(default_factory=lambda: ["-", "-"])
    format_started: float | None = None
    kat: KatRun = field(default_factory=KatRun)  # the self-test's known-answer test of this boot

    @property
    def spk(self) -> bytes:
        return self.session_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
