"""One simulated SpringCard reader behind the Companion Service: identity, register memory, lock, restart.

>>> from station.devices.springcore.configdata import parse_config
>>> reader = SimulatedReader.fresh(random.Random(1)); reader.config_id     # blank: decision §11.3
'00000000-0000-0000-0000-000000000000'
>>> reader.write_config(parse_config({"0201.s": "A-1"}), preserve=True, guid=str(uuid.UUID(int=7)))
>>> reader.registers[0x0201], reader.config_id
(b'A-1', '00000000-0000-0000-0000-000000000007')
"""

from __future__ import annotations

import base64
import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from station.devices.springcore.configdata import ConfigData
from station.devices.springcore.registers import CONFIG_GUID, DEVICE_SPECIFIC, READABLE_SPECIFIC, label

ZERO_GUID = "00000000-0000-0000-0000-000000000000"

# Which characteristic a secure-element section needs (reference §4.3, §5).
SECURE_ELEMENTS = {
    "samav": ("samav",),
    "samav-rsa": ("samav",),
    "samav-ecc": ("samav",),
    "ataes": ("ataes",),
    "atecc": ("atecc",),
    "certificates": ("samav", "atecc", "se050"),
}


@dataclass(frozen=True)
class ReaderModel:
    """What a DEVICE object says about the product (reference §4.2 examples: a USB Puck One in PC/SC)."""

    vendor_name: str = "SpringCard"
    product_name: str = "Puck"
    product_variant: str = "One"
    version: str = "1.31"
    firmware: str = "springcore/h518/puck"
    hardware: str = "FPF18177"
    vendor_id: int = 0x1C34
    product_id: int = 0x6122
    mode: str = "pcsc"
    friendly_mode: str = "PC/SC"
    profile: str = "ccid"
    characteristics: tuple[str, ...] = ("nfc", "nfc-reader", "led-rgb", "buzzer")


PUCK_ONE = ReaderModel()


class Phase(StrEnum):
    """Where a reader is in its restart cycle (decision §11.13)."""

    UP = "up"  # running: listed, answering
    LEAVING = "leaving"  # answered a restarting write: still listed and answering as before; writes 409
    RESTARTING = "restarting"  # its firmware restarts: not listed, its routes answer 503 + Retry-After
    ENUMERATING = "enumerating"  # its USB device re-enumerates: unknown to the service, 410


@dataclass
class SimulatedReader:
    """A reader's state. ``down_at``, ``known_until``, ``back_at``: monotonic times its current restart
    goes away, is lost to the service, and is back; ``reported_config_id`` the ConfigId it started with."""

    device_id: str
    unique_id: str
    serial_number: str
    model: ReaderModel = PUCK_ONE
    registers: dict[int, bytes] = field(default_factory=dict, repr=False)  # holds passwords: no repr
    secure: dict[str, dict[int, bytes]] = field(default_factory=dict, repr=False)
    down_at: float = -math.inf
    known_until: float = -math.inf
    back_at: float = -math.inf
    restarts: int = 0
    reported_config_id: str = ZERO_GUID
    _booting: bool = field(default=False, init=False, repr=False)
    winks: int = 0
    _busy: bool = field(default=False, init=False, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _release: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    @classmethod
    def fresh(cls, rng: random.Random, model: ReaderModel = PUCK_ONE) -> SimulatedReader:
        """A new reader: random stable identity (DeviceId per decision §11.3), empty register memory."""
        device_id = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode("ascii")
        unique_id = str(uuid.UUID(bytes=rng.randbytes(16))).upper()
        return cls(device_id, unique_id, rng.randbytes(4).hex().upper(), model)

    # --- identity and the DEVICE object ---------------------------------------------------------------

    @property
    def config_id(self) -> str:
        """Register 0200 as a GUID (its 16 bytes in text order), or the all-zero GUID when blank."""
        raw = self.registers.get(CONFIG_GUID)
        return str(uuid.UUID(bytes=raw)).upper() if raw and len(raw) == 16 else ZERO_GUID

    def phase(self, now: float) -> Phase:
        """Where the reader is at ``now``. The first look after it is back makes it report the ConfigId it
        holds now (callers hold the service's lock)."""
        if now < self.down_at:
            return Phase.LEAVING
        if now < self.known_until:
            return Phase.RESTARTING
        if now < self.back_at:
            return Phase.ENUMERATING
        if self._booting:  # the new start reads register 0200, as the service does at enumeration
            self._booting = False
            self.reported_config_id = self.config_id
        return Phase.UP

    def restarting(self, now: float) -> bool:
        """Not listed, not reachable (503 or 410): between going down and coming back."""
        return self.phase(now) in (Phase.RESTARTING, Phase.ENUMERATING)

    def begin_restart(self, now: float, *, leave: float, restart: float, reenumerate: float) -> None:
        """Restart after a 200: answer as before for ``leave`` s, 503 for ``restart`` s, 410 for
        ``reenumerate`` s, then up with the configuration written."""
        self.down_at = now + leave
        self.known_until = self.down_at + restart
        self.back_at = self.known_until + reenumerate
        self._booting = True
        self.restarts += 1
        self.phase(now)  # a zero-length restart is over at once

    def device_object(self) -> dict[str, Any]:
        """The DEVICE object (reference §4.2) of a present, answering reader (its ConfigId: as started)."""
        model = self.model
        name = f"{model.vendor_name} {model.product_name} {model.product_variant}"
        release = model.version.replace(".", "").rjust(4, "0")
        return {
            "DeviceId": self.device_id,
            "Binding": "pnp",
            "Status": "ok",
            "Channel": "usb",
            "Mode": model.mode,
            "FriendlyMode": model.friendly_mode,
            "Profile": model.profile,
            "Name": name,
            "VendorId": model.vendor_id,
            "ProductId": model.product_id,
            "PnpId": f"02{model.vendor_id:04X}{model.product_id:04X}{release}",
            "SerialNumber": self.serial_number,
            "VendorName": model.vendor_name,
            "ProductName": model.product_name,
            "ProductVariant": model.product_variant,
            "Version": model.version,
            "Firmware": model.firmware,
            "Hardware": model.hardware,
            "Characteristics": ",".join(model.characteristics),
            "UniqueId": self.unique_id,
            "ConfigId": self.reported_config_id,
            "SealSubject": f"CN={self.unique_id}",
            "SealSignature": base64.b64encode(bytes.fromhex(self.unique_id.replace("-", "")) * 4).decode(),
            "Genuine": True,
            "Pcsc": {"Names": [f"{name} 0"], "ReaderIds": [self.device_id[::-1]]},
        }

    # --- configuration ----------------------------------------------------------------------------------

    def write_config(self, config: ConfigData, *, preserve: bool, guid: str) -> None:
        """``PUT config``: the body replaces the memory; ``preserve`` keeps set device-specific registers."""
        memory = {address: value for address, value in config.registers.items() if value}
        if preserve:
            memory.update(self._set_device_specific())
        memory[CONFIG_GUID] = uuid.UUID(guid).bytes
        self.registers = memory
        self._store_secure(config)

    def erase_config(self, *, preserve: bool, guid: str) -> None:
        """``DELETE config``: factory defaults (secure elements untouched), a fresh GUID in 0200."""
        self.registers = self._set_device_specific() if preserve else {}
        self.registers[CONFIG_GUID] = uuid.UUID(guid).bytes

    def write_specific(self, config: ConfigData) -> None:
        """``PUT config/specific``: only the listed registers; a blank one is erased. No GUID change."""
        for address, value in config.registers.items():
            if value:
                self.registers[address] = value
            else:
                self.registers.pop(address, None)

    def read_specific(self) -> dict[str, str]:
        """``GET config/specific``: the readable device-specific registers that are set (§3.3)."""
        readable = sorted(a for a in self.registers if a in READABLE_SPECIFIC)
        return {label(address): self.registers[address].hex().upper() for address in readable}

    def _set_device_specific(self) -> dict[int, bytes]:
        return {a: v for a, v in self.registers.items() if a in DEVICE_SPECIFIC and v}

    def _store_secure(self, config: ConfigData) -> None:
        for section, entries in config.secure.items():
            if any(element in self.model.characteristics for element in SECURE_ELEMENTS[section]):
                self.secure.setdefault(section, {}).update(entries)

    # --- the busy lock (decision §11.11) ----------------------------------------------------------------

    def try_lock(self) -> bool:
        """Take the reader for a write or a wink; False when another request holds it (→ 409)."""
        with self._changed:
            if self._busy:
                return False
            self._busy = True
            self._release.clear()
            self._changed.notify_all()
            return True

    def hold(self, seconds: float) -> None:
        """Keep the lock for ``seconds`` (``math.inf``: until ``release``), as the real write takes time."""
        if seconds > 0:
            self._release.wait(None if math.isinf(seconds) else seconds)

    def unlock(self) -> None:
        with self._changed:
            self._busy = False
            self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy

    def wait_busy(self, busy: bool = True, timeout: float | None = None) -> bool:
        """Block until the reader is (or, with ``busy=False``, is no longer) locked; for tests."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == busy, timeout)

    def release(self) -> None:
        """End the current lock window now (tests that hold writes with ``write=math.inf``)."""
        self._release.set()
