"""Configuration values on the simulated unit: one rule per field, shared by init and config writes.

>>> update_ok({"user": "Ada", "storage_mode": 0x51}), update_ok({"user": "Ada", "storage_mode": 7})
(True, False)
>>> config = DeviceConfig()
>>> apply_fields(config, {"user": "Ada", "ctx": 3}, ["user"]), config.user, config.ctx
(True, 'Ada', 0)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

from cryptography import x509

from station.core.codec import b64decode
from station.core.errors import ProtocolError
from station.sim.ppa.state import SD_CAPACITY_SECTORS, DeviceConfig

Rule = Callable[[Any], bool]

STORAGE_MODES = frozenset({0x51, 0xA1, 0x53, 0xA3, 0x50, 0xA0})  # reference §5.4
USER_MAX = 32
HOSTNAME_MAX = 253
ROTATION = ("userkey", "userkey_nonce", "userkey_hmac")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def is_bool(value: object) -> bool:
    """A JSON boolean; ``0``/``1`` are not (§18.6)."""
    return isinstance(value, bool)


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: object) -> bool:
    return isinstance(value, str)


def is_user(value: object) -> bool:
    return isinstance(value, str) and len(value) <= USER_MAX


def is_ctx(value: object) -> bool:
    return is_int(value) and 0 <= value <= 0xFFFF_FFFF


def is_dosprot(value: object) -> bool:
    """Request timeout in 0.5 s units, 0 = off, at most 4 (reference §3.1)."""
    return is_int(value) and 0 <= value <= 4


def key_bytes(value: object) -> bytes | None:
    """A 32-byte public key from base64 text (either alphabet), or None."""
    raw = _b64_bytes(value)
    return raw if raw is not None and len(raw) == 32 else None


def is_key(value: object) -> bool:
    return key_bytes(value) is not None


def is_b64(value: object) -> bool:
    """Non-empty base64 text (standard or URL-safe alphabet, padding optional)."""
    return bool(_b64_bytes(value))


def _b64_bytes(value: object) -> bytes | None:
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
    return 8 <= interface.network.prefixlen <= 30


def is_storage_mode(value: object) -> bool:
    return is_int(value) and value in STORAGE_MODES


def is_disk0size(value: object) -> bool:
    """Disk0 in sectors; Disk1 (encrypted) gets the rest of the card, so at least one sector each."""
    return is_int(value) and 1 <= value < SD_CAPACITY_SECTORS


def is_tls_bundle(value: object) -> bool:
    """``{crt}`` or ``{emp, key, crt}``: base64 DER certificates, P-256 point, ``<b64 IV>.<b64 data>``.

    The simulator cannot decrypt ``key`` (the KDF is not published, reference §17.11), so it only
    checks the shape; the certificate chain must parse.
    """
    if not isinstance(value, dict) or not _is_chain(value.get("crt")):
        return False
    if "emp" not in value and "key" not in value:
        return True
    key = value.get("key")
    if not is_b64(value.get("emp")) or not isinstance(key, str) or key.count(".") != 1:
        return False
    return all(is_b64(part) for part in key.split("."))


def _is_chain(value: object) -> bool:
    """Base64 of one or more concatenated DER certificates."""
    der = _b64_bytes(value)
    if not der:
        return False
    while der:
        size = _der_length(der)
        if size is None or size > len(der):
            return False
        try:
            x509.load_der_x509_certificate(der[:size])
        except ValueError:
            return False
        der = der[size:]
    return True


def _der_length(der: bytes) -> int | None:
    """Total length of the DER element at the start of ``der`` (tag + length + content)."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 0 < count <= 4 or len(der) < 2 + count:
        return None
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


# Fields both init and config writes accept, and how each is checked.
COMMON_RULES: dict[str, Rule] = {
    "user": is_user,
    "email": is_text,
    "origin": is_text,
    "dnsd": is_bool,
    "trusted_ts": is_bool,
    "trusted_backend": is_bool,
    "allow_keysearch": is_bool,
    "ctx": is_ctx,
    "storage_mode": is_storage_mode,
    "storage_disk0size": is_disk0size,
}
INIT_RULES: dict[str, Rule] = {
    **COMMON_RULES,
    "masterkey": is_key,
    "userkey": is_key,
    "hostname": is_hostname,
    "ip": is_cidr,
    "gen_csr": is_bool,
}
# All but ``ctx`` and ``gen_csr`` are mandatory on a PPA (completeness mask 0x3FFF, reference §4.2).
INIT_REQUIRED = tuple(name for name in INIT_RULES if name not in ("ctx", "gen_csr"))
INIT_FIELDS = tuple(name for name in INIT_RULES if name not in ("masterkey", "userkey", "gen_csr"))
UPDATE_RULES: dict[str, Rule] = {
    **COMMON_RULES,
    "http_option_hsts": is_bool,
    "http_option_dosprot_mode": is_dosprot,
    "gen_csr": is_bool,
    "tls": is_tls_bundle,
}
UPDATE_FIELDS = tuple(name for name in UPDATE_RULES if name not in ("gen_csr", "tls"))


def init_cfg_ok(cfg: object) -> TypeGuard[dict[str, Any]]:
    """The init ``cfg``: an object with the 13 mandatory fields, every known field valid."""
    if not isinstance(cfg, dict) or any(name not in cfg for name in INIT_REQUIRED):
        return False
    return _fields_ok(cfg, INIT_RULES)


def update_ok(body: Mapping[str, Any]) -> bool:
    """A config write: every supplied known field valid, and the rotation triple whole and well-formed."""
    return _fields_ok(body, UPDATE_RULES) and _rotation_ok(body)


def rotation_requested(body: Mapping[str, Any]) -> bool:
    return all(name in body for name in ROTATION)


def _rotation_ok(body: Mapping[str, Any]) -> bool:
    present = [name in body for name in ROTATION]
    if not any(present):
        return True
    if not all(present):
        return False  # a partial triple is a 400, not a 406 (reference §18.8)
    return is_key(body["userkey"]) and is_b64(body["userkey_nonce"]) and is_b64(body["userkey_hmac"])


def _fields_ok(values: Mapping[str, Any], rules: Mapping[str, Rule]) -> bool:
    return all(rule(values[name]) for name, rule in rules.items() if name in values)


def apply_fields(config: DeviceConfig, values: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Copy the supplied ``names`` from ``values`` (already checked) into ``config``; True if any changed."""
    changed = False
    for name in names:
        if name in values and getattr(config, name) != values[name]:
            setattr(config, name, values[name])
            changed = True
    return changed
