"""The SpringCore register table: sizes and roles of the registers a Companion configuration may write.

>>> spec = register(0x0201)
>>> spec.name, spec.describe_size(), spec.device_specific, spec.accepts(19)
('Inventory number', '0 to 32 bytes', True, True)
>>> register(0x0230).accepts(2), register(0x0222), label(0x20A)      # 0230: 1 byte; 0222: not a register
(False, None, '020A')
"""

from __future__ import annotations

from dataclasses import dataclass

CONFIG_GUID = 0x0200
CONFIG_BANK = 0x02
TEMPLATES_BANK = 0x03
TEMPLATE_MAX = 64

# Exact sizes in bytes (reference §6.2); a tuple where products differ.
_FIXED: dict[int, int | tuple[int, ...]] = {
    0x0200: 16,
    0x0230: 1, 0x0231: 2, 0x0232: 2, 0x0233: 1, 0x0234: 1, 0x0237: 1, 0x0238: 3, 0x023A: 1,
    0x023B: 2, 0x023C: 8, 0x023D: 2, 0x023E: (3, 4), 0x023F: 3,
    0x0240: 1, 0x0241: 8, 0x0242: 1, 0x0243: 3, 0x0248: 1, 0x0249: 4, 0x024A: 16,
    0x0271: (1, 2), 0x0272: (1, 2), 0x0273: (1, 2), 0x0279: 1, 0x027A: 2, 0x027B: 2, 0x027C: 2, 0x027F: 1,
    0x0280: 20, 0x0281: 16, 0x0283: 1, 0x0284: 1, 0x0285: 14, 0x0288: 5, 0x0289: 6, 0x0292: 2, 0x0295: 1,
    0x029C: 2, 0x029F: 1,
    0x02A0: 5, 0x02A1: 2, 0x02A6: 1, 0x02A7: 1,
    0x02B0: 1, 0x02B1: 1, 0x02B2: 1, 0x02BC: 1, 0x02BE: (2, 8), 0x02BF: 1,
    0x02C0: 1, 0x02C1: 1, 0x02C2: 1, 0x02C4: 1, 0x02C5: 5, 0x02C6: 3, 0x02CD: 4, 0x02CE: 1,
    0x02D0: 1, 0x02D1: 1, 0x02D2: 2, 0x02D3: 3, 0x02D7: 1, 0x02D8: 1, 0x02DA: 3,
    0x02E0: 1,
    0x02F0: 4, 0x02F1: 2, 0x02F2: 1, 0x02F3: 4, 0x02F4: 16, 0x02F5: 64, 0x02FB: 1,
}  # fmt: skip

# Variable-length registers: the largest size in bytes (reference §6.2, decisions §11.1-2).
_DYNAMIC: dict[int, int] = {
    0x0201: 32, 0x0202: 32, 0x0203: 64, 0x0204: 64, 0x0205: 64, 0x0206: 64, 0x0207: 64,
    0x0208: 32, 0x0209: 32, 0x020A: 32, 0x020B: 64, 0x020C: 64, 0x020D: 64, 0x020E: 64, 0x020F: 64,
    0x0239: 20, 0x0244: 29, 0x024B: 32, 0x024C: 32,
    0x0286: 48, 0x028B: 16, 0x028C: 16, 0x028D: 24, 0x028E: 32, 0x028F: 24, 0x0290: 48, 0x0291: 48,
    0x0293: 32, 0x0294: 48,
    0x02A8: 8, 0x02A9: 8, 0x02CF: 64, 0x02D9: 64, 0x02EB: 16, 0x02EC: 16, 0x02ED: 64,
    0x02FC: 32, 0x02FD: 32, 0x02FE: 16, 0x02FF: 16,
}  # fmt: skip

_NAMES = {
    0x0200: "Configuration GUID",
    0x0201: "Inventory number",
    0x0202: "Location",
    0x0208: "Application name",
    0x0209: "License key",
    0x020A: "License cryptogram",
    0x0244: "BLE device name",
    0x0280: "IPv4 settings",
    0x0281: "IPv6 settings",
    0x02C0: "Profile",
    0x02F0: "Access conditions",
    0x02F2: "Master Card and config push options",
    0x02F4: "Master Card key",
    0x02FE: "User password",
    0x02FF: "Admin password",
}

DEVICE_SPECIFIC = frozenset([*range(0x0200, 0x0210), 0x0280, 0x0281, 0x02FE, 0x02FF])
"""What ``PUT /device/{id}/config/specific`` accepts and what ``specific=preserve`` keeps."""

READABLE_SPECIFIC = frozenset([*range(0x0200, 0x0210), 0x0280, 0x0281])
"""What ``GET /device/{id}/config/specific`` returns (when not blank); passwords are write-only."""

# 02F4 is 16 bytes, the size of the AES-128 key that protects master cards (reference §9): kept secret
# on that evidence alone, since treating a public value as secret costs nothing.
SECRET = frozenset([0x02F4, 0x02FE, 0x02FF])
"""Registers whose values are secrets: never logged, recorded or shown."""


@dataclass(frozen=True)
class Register:
    """One register: exact ``sizes`` for a fixed-size register, or 0..``max_size`` when ``dynamic``."""

    address: int
    max_size: int
    dynamic: bool
    sizes: tuple[int, ...] = ()
    name: str = ""

    @property
    def label(self) -> str:
        return label(self.address)

    @property
    def device_specific(self) -> bool:
        return self.address in DEVICE_SPECIFIC

    @property
    def secret(self) -> bool:
        return self.address in SECRET

    def accepts(self, length: int) -> bool:
        """Whether a value of ``length`` bytes fits; 0 (blank) always does."""
        if length == 0:
            return True
        return length <= self.max_size if self.dynamic else length in self.sizes

    def describe_size(self) -> str:
        """The allowed lengths in words: "exactly 2 bytes", "3 or 4 bytes", "0 to 32 bytes"."""
        if self.dynamic:
            return f"0 to {self.max_size} bytes"
        if len(self.sizes) == 1:
            return f"exactly {self.sizes[0]} byte{'s' if self.sizes[0] != 1 else ''} (or blank)"
        return f"{' or '.join(map(str, self.sizes))} bytes (or blank)"


def label(address: int) -> str:
    """A register address as the API writes it: 4 uppercase hex digits."""
    return f"{address:04X}"


def register(address: int) -> Register | None:
    """The register at ``address`` in the Configuration or Templates bank; None when there is none."""
    if address >> 8 == TEMPLATES_BANK:
        return Register(address, TEMPLATE_MAX, dynamic=True, name=f"Template {(address >> 4) & 0xF}")
    return _TABLE.get(address)


def known_registers() -> tuple[Register, ...]:
    """Every Configuration-bank register of the table, by address."""
    return tuple(_TABLE[address] for address in sorted(_TABLE))


def _build() -> dict[int, Register]:
    table: dict[int, Register] = {}
    for address, size in _FIXED.items():
        sizes = size if isinstance(size, tuple) else (size,)
        table[address] = Register(address, max(sizes), False, sizes, _NAMES.get(address, ""))
    for address, largest in _DYNAMIC.items():
        table[address] = Register(address, largest, True, (), _NAMES.get(address, ""))
    return table


_TABLE = _build()
