"""Personalisation and token login (reference §4, §5.1-§5.3, §18.6-§18.7).

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit, get = SimulatedPpa(backend_key=bytes(32)), Request("GET", "", "", {}, b"", "http")
>>> init_challenge(unit, get, None).status, token_challenge(unit, get, None).status
(403, 409)
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Any

from station.core.codec import b64encode
from station.core.errors import ProtocolError
from station.devices.ppa.cfgspec import is_int, key_bytes
from station.devices.ppa.protocol import (
    ParsedJwt,
    derive_instanceid,
    is_ecdh_header,
    make_genuine,
    parse_jwt,
    verify_hs256,
    x25519_shared_secret,
)
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import M, U, issue_token
from station.sim.ppa.cfgcheck import INIT_FIELDS, apply_fields, init_cfg_ok
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.routes.config import tls_csr
from station.sim.ppa.routes.table import route
from station.sim.ppa.state import NONCE_LIFETIME
from station.sim.ppa.unit import Unit

SCOPE_MAX = 127


# --- personalisation (§4) ---------------------------------------------------------------------------


def init_challenge(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Phase 1: identity, session key and a nonce; ``genuine`` is stamped with the challenge ``exp``."""
    refused = _init_refusal(dev)
    if refused is not None:
        return refused
    now = dev.clock.now()
    exp = now + int(NONCE_LIFETIME)
    return reply(
        {
            "eid": b64encode(dev.state.instance.eid_public),
            "spk": b64encode(dev.boot.spk),
            "jti": dev.boot.nonces["init"].issue(now, dev.clock.monotonic()),
            "exp": exp,
            "genuine": make_genuine(dev.state.hardware.se_key, exp),
        }
    )


def init_final(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Phase 2: checks in the order of §18.6 (409, 406, 403, 400, 401), then personalise."""
    refused = _init_refusal(dev)
    jwt = _posted_jwt(req, "init") if refused is None else refused
    if isinstance(jwt, Response):
        return jwt
    cfg = jwt.claims.get("cfg")
    if not init_cfg_ok(cfg):
        return empty(400)
    signer = _signer(dev, jwt, "init")
    masterkey = key_bytes(cfg["masterkey"])
    if signer is None or masterkey is None or not hmac.compare_digest(signer, masterkey):
        return empty(401)  # the init is signed by the master key it installs
    return _personalise(dev, cfg, masterkey)


def _init_refusal(dev: Unit) -> Response | None:
    if dev.state.fls_state != 0:
        return empty(409)
    if dev.state.initialised:
        return empty(406)
    if not dev.clock.rtc_set:
        return empty(403)  # init needs real time whatever ``trusted_ts`` says (reference §6.4)
    return None


def _personalise(dev: Unit, cfg: dict[str, Any], masterkey: bytes) -> Response:
    """Write the configuration, issue the 8 h user token, start the disk format."""
    state, now = dev.state, dev.clock.now()
    ip_changed = ipaddress.IPv4Interface(cfg["ip"]) != ipaddress.IPv4Interface(state.config.ip)
    apply_fields(state.config, cfg, INIT_FIELDS)
    state.config.masterkey, state.config.userkey = masterkey, key_bytes(cfg["userkey"])
    state.config.iat = state.config.uts = now
    state.initialised = True
    state.instanceid = derive_instanceid(masterkey, state.instance.eid_public, state.hardware.devid)
    body: dict[str, Any] = {
        "instanceid": state.instanceid,
        "token": issue_token(dev, "system:config", U),
        "genuine": make_genuine(state.hardware.se_key, now),
    }
    if ip_changed:
        body["reboot_required"] = True
    if cfg.get("gen_csr") is True:
        body["csr"] = tls_csr(dev, new_key=True)
    dev.log(Event.DEVICE_INITED, Result.OK, subject=M)
    dev.boot.format_started, state.format_owed = dev.clock.monotonic(), True
    return reply(body)


# --- token login (§5.1, §5.2) -------------------------------------------------------------------------


def token_challenge(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    refused = _token_refusal(dev)
    if refused is not None:
        return refused
    now = dev.clock.now()
    return reply(
        {
            "exp": now + int(NONCE_LIFETIME),
            "spk": b64encode(dev.boot.spk),
            "jti": dev.boot.nonces["token"].issue(now, dev.clock.monotonic()),
            "lbl": dev.state.config.user,
            "eid": b64encode(dev.state.instance.eid_public),
        }
    )


def token_login(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Issue a bearer for the requested scope to the user (``U``) or the master (``M``)."""
    refused = _token_refusal(dev)
    jwt = _posted_jwt(req, "auth") if refused is None else refused
    if isinstance(jwt, Response):
        return jwt
    scope, exp = jwt.claims.get("scope"), jwt.claims.get("exp")
    if not isinstance(scope, str) or not 0 < len(scope) <= SCOPE_MAX or not is_int(exp):
        return empty(400)
    signer = _signer(dev, jwt, "token")
    role = None if signer is None else _role(dev, signer)
    # A requested ``exp`` already past by the device's clock is refused (a fast RTC, reference §5.3).
    if role is None or (exp != 0 and exp < dev.clock.now()):
        return empty(401)
    dev.log(Event.AUTH_SUCCESS_INTERNAL, Result.OK, subject=role, data=scope.encode("utf-8"))
    return reply({"token": issue_token(dev, scope, role, exp)})


def _token_refusal(dev: Unit) -> Response | None:
    if not dev.state.initialised:
        return empty(409)
    if dev.state.config.trusted_ts and not dev.clock.rtc_set:
        return empty(403)
    return None


def _role(dev: Unit, key: bytes) -> str | None:
    """``U`` for the stored user key, ``M`` for the master key; both compared, in constant time."""
    cfg = dev.state.config
    is_user = cfg.userkey is not None and hmac.compare_digest(key, cfg.userkey)
    is_master = cfg.masterkey is not None and hmac.compare_digest(key, cfg.masterkey)
    if is_user:
        return U
    return M if is_master else None


# --- shared -------------------------------------------------------------------------------------------


def _posted_jwt(req: Request, name: str) -> ParsedJwt | Response:
    """The JWT in body field ``name``: 400 when it is missing, 401 when it does not decode (§1.3)."""
    text = (req.json or {}).get(name)
    if not isinstance(text, str):
        return empty(400)
    try:
        return parse_jwt(text)
    except ProtocolError:
        return empty(401)


def _signer(dev: Unit, jwt: ParsedJwt, pool: str) -> bytes | None:
    """The ``iss`` key when the ECDH header, the HMAC keyed X25519(session, iss) and the nonce check out.

    The nonce is used up as soon as the signature verifies (reference §18.6), before the caller asks
    whether ``iss`` is a key it accepts: a challenge answered once is gone, whoever answered it.
    """
    key = key_bytes(jwt.claims.get("iss"))
    if not is_ecdh_header(jwt.header) or key is None:
        return None
    try:
        verify_hs256(jwt, x25519_shared_secret(dev.boot.session_key.private_bytes_raw(), key))
    except ProtocolError:
        return None
    return key if dev.boot.nonces[pool].take(jwt.claims.get("jti"), dev.clock.monotonic()) else None


ROUTES = [
    route("GET", r"/api/auth/init", init_challenge, cost="crypto"),
    route("POST", r"/api/auth/init", init_final, cost="auth"),
    route("GET", r"/api/auth/token", token_challenge),
    route("POST", r"/api/auth/token", token_login, cost="auth"),
]
