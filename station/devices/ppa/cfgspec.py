"""The init ``cfg`` fields a PPA accepts (reference §4.2, rules §18.6), one row each: the station checks its
profiles against this table at start-up, and the simulator checks requests with it.

>>> INIT_CFG["storage_disk0size"].problem(CARD_SECTORS)
'121634816 is out of range; allowed: an integer from 1 to 121634815 (sectors of disk 0; disk 1 gets the rest)'
>>> INIT_CFG["dnsd"].accepts(1), [f.name for f in INIT_CFG.values() if not f.required]
(False, ['ctx', 'gen_csr'])
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from station.core.codec import b64decode
from station.core.errors import ProtocolError

CARD_SECTORS = 121_634_816  # the PPA's SD card (64 GB) in 512-byte sectors: disk 0 + disk 1
STORAGE_MODES = (0x51, 0xA1, 0x53, 0xA3, 0x50, 0xA0)  # reference §5.4
USER_MAX = 32
HOSTNAME_MAX = 253
KEY_BYTES = 32
PREFIX_RANGE = (8, 30)
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class CfgField:
    """One ``cfg`` field: its kind (bool, int, text, key, hostname, cidr), bounds, and where it is accepted.

    ``required``: one of the 13 fields a PPA init needs (completeness mask 0x3FFF); ``stored``: kept in the
    unit's configuration (the keys and ``gen_csr`` are not); ``config_write``: also checked by ``POST
    /api/system/config`` (§3.2; ``hostname`` and ``ip`` are ignored there, §18.8). ``allowed``: in words.
    """

    name: str
    kind: str
    allowed: str
    required: bool = True
    stored: bool = True
    config_write: bool = True
    minimum: int | None = None
    maximum: int | None = None
    values: tuple[int, ...] = ()
    max_length: int | None = None

    def accepts(self, value: object) -> bool:
        return self.problem(value) is None

    def problem(self, value: object) -> str | None:
        """Why the unit would refuse ``value`` for this field (its 400), or None if it accepts it."""
        if not _KINDS[self.kind](value):
            return f"{_shown(value)} is not allowed; allowed: {self.allowed}"
        if self.kind == "int" and self.values and value not in self.values:
            return f"{value:#x} is not allowed; allowed: {self.allowed}"
        if self.kind == "int" and not self._in_range(value):
            return f"{value} is out of range; allowed: {self.allowed}"
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            return f"{len(value)} characters is too long; allowed: {self.allowed}"
        return None

    def _in_range(self, value: Any) -> bool:
        above = self.minimum is None or value >= self.minimum
        return above and (self.maximum is None or value <= self.maximum)


def _shown(value: object, limit: int = 60) -> str:
    """``value`` for a message: its repr, cut short (a refused value may be long)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer; ``true``/``false`` are not (§18.6)."""
    return isinstance(value, int) and not isinstance(value, bool)


def key_bytes(value: object) -> bytes | None:
    """A 32-byte public key from base64 text (either alphabet, padding optional), or None."""
    raw = b64_bytes(value)
    return raw if raw is not None and len(raw) == KEY_BYTES else None


def b64_bytes(value: object) -> bytes | None:
    """The bytes of base64 text (standard or URL-safe alphabet, padding optional), or None."""
    if not isinstance(value, str):
        return None
    try:
        return b64decode(value)
    except ProtocolError:
        return None


def is_hostname(value: object) -> bool:
    """An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens."""
    if not isinstance(value, str) or not 0 < len(value) <= HOSTNAME_MAX:
        return False
    return all(_LABEL.match(label) for label in value.split("."))


def is_cidr(value: object) -> bool:
    """``A.B.C.D/prefix`` with a prefix from /8 to /30: the unit's own address on its USB network."""
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    try:
        interface = ipaddress.IPv4Interface(value)
    except ValueError:
        return False
    return PREFIX_RANGE[0] <= interface.network.prefixlen <= PREFIX_RANGE[1]


_KINDS = {
    "bool": lambda value: isinstance(value, bool),
    "int": is_int,
    "text": lambda value: isinstance(value, str),
    "key": lambda value: key_bytes(value) is not None,
    "hostname": is_hostname,
    "cidr": is_cidr,
}
_BOOL = "true or false (a JSON boolean, not 0 or 1)"
_KEY = "a 32-byte X25519 public key in base64"
_CIDR = "an IPv4 address with a /8 to /30 prefix, e.g. 192.168.7.1/24"
_MODES = ", ".join(f"{mode:#x}" for mode in STORAGE_MODES)

INIT_CFG: dict[str, CfgField] = {
    field.name: field
    for field in (
        CfgField("masterkey", "key", _KEY, stored=False, config_write=False),
        CfgField("userkey", "key", _KEY, stored=False, config_write=False),  # rotation: §3.3
        CfgField("user", "text", f"text of at most {USER_MAX} characters", max_length=USER_MAX),
        CfgField("email", "text", "text"),
        CfgField("hostname", "hostname", "an RFC 1123 host name, e.g. my.ence.do", config_write=False),
        CfgField("ip", "cidr", _CIDR, config_write=False),
        CfgField("storage_mode", "int", f"one of {_MODES} (reference §5.4)", values=STORAGE_MODES),
        CfgField(
            "storage_disk0size",
            "int",
            f"an integer from 1 to {CARD_SECTORS - 1} (sectors of disk 0; disk 1 gets the rest)",
            minimum=1,
            maximum=CARD_SECTORS - 1,
        ),
        CfgField("dnsd", "bool", _BOOL),
        CfgField("trusted_ts", "bool", _BOOL),
        CfgField("trusted_backend", "bool", _BOOL),
        CfgField("allow_keysearch", "bool", _BOOL),
        CfgField("origin", "text", "text (the CORS allow-list, e.g. *)"),
        CfgField(
            "ctx", "int", "an integer from 0 to 4294967295", required=False, minimum=0, maximum=0xFFFF_FFFF
        ),
        CfgField("gen_csr", "bool", _BOOL, required=False, stored=False),  # a request, not a setting
    )
}
INIT_REQUIRED = tuple(name for name, field in INIT_CFG.items() if field.required)
STORED = tuple(name for name, field in INIT_CFG.items() if field.stored)
