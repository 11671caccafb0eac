"""Configuration values on the simulated unit: one rule per field, shared by init and config writes.

>>> update_ok({"user": "Ada", "storage_mode": 0x51}), update_ok({"user": "Ada", "storage_mode": 7})
(True, False)
>>> config = DeviceConfig()
>>> apply_fields(config, {"user": "Ada", "ctx": 3}, ["user"]), config.user, config.ctx
(True, 'Ada', 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

from cryptography import x509

from station.devices.ppa.cfgspec import INIT_CFG, INIT_REQUIRED, STORED, b64_bytes, is_int, key_bytes
from station.sim.ppa.state import DeviceConfig

Rule = Callable[[Any], bool]

ROTATION = ("userkey", "userkey_nonce", "userkey_hmac")


def is_bool(value: object) -> bool:
    """A JSON boolean; ``0``/``1`` are not (§18.6)."""
    return isinstance(value, bool)


def is_dosprot(value: object) -> bool:
    """Request timeout in 0.5 s units, 0 = off, at most 4 (reference §3.1)."""
    return is_int(value) and 0 <= value <= 4


def is_key(value: object) -> bool:
    return key_bytes(value) is not None


def is_b64(value: object) -> bool:
    """Non-empty base64 text (standard or URL-safe alphabet, padding optional)."""
    return bool(b64_bytes(value))


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
    der = b64_bytes(value)
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


# The device's own table (devices/ppa/cfgspec.py): what init checks, what config writes check too.
COMMON_RULES: dict[str, Rule] = {name: spec.accepts for name, spec in INIT_CFG.items() if spec.config_write}
INIT_RULES: dict[str, Rule] = {name: spec.accepts for name, spec in INIT_CFG.items()}
INIT_FIELDS = STORED  # what an init writes into the configuration (not the keys, not gen_csr)
UPDATE_RULES: dict[str, Rule] = {
    **COMMON_RULES,
    "http_option_hsts": is_bool,
    "http_option_dosprot_mode": is_dosprot,
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
