"""Configuration endpoints (reference §3.1-§3.3, §3.7, §18.7-§18.9): read, write, rotate, wipe.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))             # not served: a handler is a plain function
>>> read_config(unit, Request("GET", "/api/system/config", "", {}, b"", "http"), None).status   # no token
401
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core.codec import b64decode, b64encode
from station.devices.ppa.cfgspec import key_bytes
from station.devices.ppa.protocol import make_genuine, userkey_rotation_hmac
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import EXT, Bearer, M, U, request_bearer, require
from station.sim.ppa.cfgcheck import UPDATE_FIELDS, apply_fields, rotation_requested, update_ok
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.routes.table import route
from station.sim.ppa.state import SD_CAPACITY_SECTORS
from station.sim.ppa.unit import Unit

READ_SCOPES = ("system:config", "logger:get", "auth:ext:pair")
WRITE_SCOPES = ("system:config",)


def read_config(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """The configuration, plus this boot's ``spk`` and a fresh ``nonce`` for a user-key rotation."""
    refused = require(dev, req, READ_SCOPES, roles=(U, M, EXT))
    if refused is not None:
        return refused
    return reply(config_view(dev))


def config_view(dev: Unit) -> dict[str, Any]:
    state, cfg, clock = dev.state, dev.state.config, dev.clock
    body: dict[str, Any] = {"iat": cfg.iat, "uts": cfg.uts, "devid": state.hardware.devid}
    if state.instanceid is not None:
        body["instanceid"] = state.instanceid
    body |= {
        "eid": b64encode(state.instance.eid_public),
        "eid_sign": b64encode(state.instance.eid_sign_public),
        "user": cfg.user,
        "email": cfg.email,
        "hostname": cfg.hostname,
        "dnsd": cfg.dnsd,
        "trusted_ts": cfg.trusted_ts,
        "trusted_backend": cfg.trusted_backend,
        "allow_keysearch": cfg.allow_keysearch,
        "origin": cfg.origin,
        "ctx": cfg.ctx,
        "http_option_hsts": cfg.http_option_hsts,
        "http_option_dosprot_mode": cfg.http_option_dosprot_mode,
        "ip": cfg.ip,
        "genuine_id": state.hardware.genuine_id,
        "storage_mode": cfg.storage_mode,
        "storage_disk0size": cfg.storage_disk0size,
        "storage_capacity": SD_CAPACITY_SECTORS,
        "spk": b64encode(dev.boot.spk),
        "nonce": dev.boot.nonces["config"].issue(clock.now(), clock.monotonic()),
    }
    return body


def write_config(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Fresh unit: install the first TLS bundle. Personalised unit: a validated partial update."""
    body = req.json or {}
    bearer = request_bearer(dev, req)
    if bearer is None and not dev.state.initialised:
        return _install_first_tls(dev, body)
    refused = require(dev, req, WRITE_SCOPES, roles=(U, M))
    if refused is not None or bearer is None:
        return refused or empty(401)
    if "wipeout" in body:
        return _wipeout(dev, bearer, body["wipeout"])
    if not update_ok(body):
        return reply({"updated": False}, 400)  # the 200 shape, nothing changed (reference §18.8)
    if rotation_requested(body) and not _rotation_allowed(dev, bearer, body):
        dev.log(Event.CONFIG_UPDATED, Result.FAILED, subject=bearer.sub)
        return empty(406)
    return _apply_update(dev, bearer, body)


def _install_first_tls(dev: Unit, body: Mapping[str, Any]) -> Response:
    """No token on a fresh unit: only ``tls`` is accepted (406 without it). Not audit-logged (§17.18)."""
    if "tls" not in body:
        return empty(406)
    if not update_ok({"tls": body["tls"]}):
        return empty(400)
    _store_tls(dev, body["tls"])
    return empty(200)


def _wipeout(dev: Unit, bearer: Bearer, value: object) -> Response:
    """``true`` answers 200, then the unit resets and reboots (§18.9); any other value is 406."""
    if value is not True:
        dev.log(Event.CONFIG_UPDATED, Result.FAILED, subject=bearer.sub)
        return empty(406)
    dev.log(Event.CONFIG_UPDATED, Result.OK, subject=bearer.sub)
    return dev.restart_after_reply(wipe=True)


def _rotation_allowed(dev: Unit, bearer: Bearer, body: Mapping[str, Any]) -> bool:
    """User-key rotation (§3.3): the user only, a nonce of ours (used up), and the new key's proof.

    The device computes the HMAC from its side of the exchange: X25519(session private, new userkey)
    equals the client's X25519(new private, spk).
    """
    if bearer.role != U:
        return False
    nonce = body["userkey_nonce"]
    if not dev.boot.nonces["config"].take(nonce, dev.clock.monotonic()):
        return False
    new_key = key_bytes(body["userkey"])
    if new_key is None:  # pragma: no cover - update_ok already checked it
        return False
    session = dev.boot.session_key.private_bytes_raw()
    expected = b64decode(userkey_rotation_hmac(session, new_key, b64decode(nonce)))
    return hmac.compare_digest(expected, b64decode(body["userkey_hmac"]))


def _apply_update(dev: Unit, bearer: Bearer, body: Mapping[str, Any]) -> Response:
    """Write the supplied fields; ``hostname`` and ``ip`` are fixed after personalisation (§18.8)."""
    cfg, now = dev.state.config, dev.clock.now()
    old_disk0 = cfg.storage_disk0size
    changed = apply_fields(cfg, body, UPDATE_FIELDS)
    if rotation_requested(body):
        new_key = key_bytes(body["userkey"])
        changed |= new_key != cfg.userkey
        cfg.userkey = new_key
    extra: dict[str, Any] = {}
    if "tls" in body:
        _store_tls(dev, body["tls"])
        changed, extra["reboot_required"] = True, True
    elif body.get("gen_csr") is True:
        extra = {"csr": tls_csr(dev), "genuine": make_genuine(dev.state.hardware.se_key, now)}
    if cfg.storage_disk0size != old_disk0:
        dev.boot.format_started = dev.clock.monotonic()  # a new split reformats both disks
        dev.state.format_owed = True
    if changed:
        cfg.uts = now
    dev.log(Event.CONFIG_UPDATED, Result.OK, subject=bearer.sub)
    return reply({"updated": changed, **extra})


def _store_tls(dev: Unit, tls: Mapping[str, Any]) -> None:
    """A full bundle replaces the stored one; ``{crt}`` alone replaces the certificate, keeps the key."""
    if "key" in tls:
        dev.state.tls_bundle = dict(tls)
        dev.state.tls_key = None  # the imported (encrypted) key is now the unit's TLS key
    else:
        dev.state.tls_bundle = {**(dev.state.tls_bundle or {}), "crt": tls["crt"]}


def tls_csr(dev: Unit, *, new_key: bool = False) -> str:
    """A PEM CSR for the configured hostname from the unit's own TLS key (made here if there is none)."""
    if new_key or dev.state.tls_key is None:
        dev.state.tls_key = ec.generate_private_key(ec.SECP256R1())
    hostname = dev.state.config.hostname
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(dev.state.tls_key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


ROUTES = [
    route("GET", r"/api/system/config", read_config),
    route("POST", r"/api/system/config", write_config, cost="crypto"),
]
