"""Check-in endpoints (reference §6, §18.4): the unit's only source of real time, and remote management.

>>> import json, station.sim.ppa; from station.core import codec; from station.devices.ppa import checkin
>>> unit = station.sim.ppa.device.SimulatedPpa(backend_key=codec.x25519_public_key(backend := bytes(32)))
>>> request = checkin.verify_check(json.loads(get_check(unit, None, None).body)["check"], backend)  # backend
>>> checked = {"checked": checkin.sign_checked(request, backend, iat=1_700_000_000, status="OK")}
>>> post_checked(unit, Request("POST", "", "", {}, b"", "http", checked), None).body, unit.clock.now()
(b'{"status":"OK"}', 1700000000)
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cryptography import x509

from station.core.codec import b64decode, b64encode
from station.core.errors import ProtocolError
from station.devices.ppa.protocol import (
    checkin_qid,
    encode_ecdh_jwt,
    is_ecdh_header,
    parse_jwt,
    verify_hs256,
    x25519_shared_secret,
)
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.routes.table import route
from station.sim.ppa.unit import Unit

FLS_LOCKED = 0x40  # fls_state bit: locked after check-in (reference §2.1)
FLS_SHUT_DOWN = 0x80  # fls_state bit: shut down after check-in
ACTIONS = ("OK", "W", "L", "R", "B", "U")
UNKNOWN_ACTION = "???"


def get_check(dev: Unit, _req: Request, _: re.Match[str]) -> Response:
    """The ``check`` token: claims exactly those of §6.1, in that order. Works in any ``fls_state``."""
    fw = dev.state.firmware
    claims = {
        "jti": dev.boot.nonces["check"].issue(dev.clock.now(), dev.clock.monotonic()),
        "iss": b64encode(dev.boot.spk),
        "qid": checkin_qid(dev.devid),
        "aud": b64encode(dev.backend_key),
        "fws": b64encode(fw.fws),
        "bls": b64encode(fw.bls),
        "uis": b64encode(fw.uis),
        "csn": b64encode(tls_serial(dev)),
    }
    return reply({"check": encode_ecdh_jwt(claims, _backend_secret(dev))})


def post_checked(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Verify ``checked`` (§18.4 order), set the RTC, install ``newcrt``, then run the action.

    A locked unit (``fls_state`` 0x40) still checks in: that is how the backend reaches it to wipe it.
    """
    token = (req.json or {}).get("checked")
    if not isinstance(token, str):
        return empty(400)
    claims = _verified_claims(dev, token)
    if claims is None:
        return empty(401)
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        return empty(400)
    dev.clock.set_rtc(iat)
    dev.log(Event.RTC_SET, Result.OK, data=(iat & 0xFFFFFFFF).to_bytes(4, "little"))
    status = claims.get("status")
    action = status if isinstance(status, str) and status in ACTIONS else UNKNOWN_ACTION
    body: dict[str, Any] = {"status": action}
    if "newcrt" in claims:
        body["newcrt"] = _install_newcrt(dev, claims["newcrt"])
    for name in ("newfws", "newuis"):  # update hints are passed through for the client to act on
        if isinstance(claims.get(name), str):
            body[name] = claims[name]
    response = reply(body)
    if dev.state.config.trusted_backend:
        _execute(dev, action, response)
    return response


def _verified_claims(dev: Unit, token: str) -> dict[str, Any] | None:
    """The claims of a ``checked`` token from the trusted backend, or None (answer 401).

    The nonce is used up only once the HMAC verifies, so a forged token cannot burn a real one.
    """
    try:
        jwt = parse_jwt(token)
        if not is_ecdh_header(jwt.header) or not _is_trusted_issuer(dev, jwt.claims.get("iss")):
            return None
        verify_hs256(jwt, _backend_secret(dev))
    except ProtocolError:
        return None
    if not dev.boot.nonces["check"].take(jwt.claims.get("jti"), dev.clock.monotonic()):
        return None
    return jwt.claims


def _is_trusted_issuer(dev: Unit, iss: object) -> bool:
    if not isinstance(iss, str):
        return False
    try:
        return b64decode(iss) == dev.backend_key
    except ProtocolError:
        return False


def _backend_secret(dev: Unit) -> bytes:
    """X25519(session private, backend public): the HMAC key of both ``check`` and ``checked``."""
    return x25519_shared_secret(dev.boot.session_key.private_bytes_raw(), dev.backend_key)


def _execute(dev: Unit, action: str, response: Response) -> None:
    """Carry out a management action; ``response`` is the 200 already decided (W: the old boot answers
    ``pre_reboot`` seconds more, then the unit wipes itself and reboots)."""
    if action == "W":
        dev.restart_after_reply(wipe=True)
    elif action == "L":
        dev.state.config.userkey = None
        dev.state.fls_state |= FLS_LOCKED
        dev.log(Event.SHUTDOWN, Result.OK)
    elif action == "B":
        dev.state.fls_state |= FLS_SHUT_DOWN
        dev.log(Event.SHUTDOWN, Result.OK)
        # Set now rather than after the reply: the unit takes no further request either way, and a
        # client that asks again at once must never slip in before the flag is set.
        dev.state.shut_down = True
    # OK: nothing; R (report) and U (force upgrade) are acknowledged only.


def _install_newcrt(dev: Unit, value: object) -> str:
    """Install a pushed TLS certificate (chain) on a fresh unit; ``OK`` or ``ERROR``.

    Firmware 1.2.2 quirk (reference §6.3, §14): a personalised unit reports ``OK`` but never installs it.
    """
    if dev.state.initialised:
        return "OK"
    try:
        if not isinstance(value, str) or not certificate_chain(b64decode(value)):
            return "ERROR"
    except (ProtocolError, ValueError):
        return "ERROR"
    dev.state.tls_bundle = {**(dev.state.tls_bundle or {}), "crt": value}
    return "OK"


def tls_serial(dev: Unit) -> bytes:
    """``csn``: the serial of the stored TLS certificate, or a per-unit constant when none is stored.

    The simulator's HTTPS listener serves a generated certificate (``identity.https_credentials``) whose
    serial is not kept; the constant stands for it (SHA-256("csn" || devid), first 16 bytes).
    """
    crt = (dev.state.tls_bundle or {}).get("crt")
    if isinstance(crt, str):
        try:
            serial = certificate_chain(b64decode(crt))[0].serial_number
            return serial.to_bytes(max(1, (serial.bit_length() + 8) // 8), "big")
        except (ProtocolError, ValueError, IndexError):
            pass
    return hashlib.sha256(b"csn" + dev.devid.encode("ascii")).digest()[:16]


def certificate_chain(der: bytes) -> list[x509.Certificate]:
    """Parse concatenated DER certificates (a chain, leaf first); ValueError if any part is not one."""
    certificates = []
    while der:
        size = _der_element_size(der)
        certificates.append(x509.load_der_x509_certificate(der[:size]))
        der = der[size:]
    return certificates


def _der_element_size(der: bytes) -> int:
    """Total size (header + content) of the first DER element: cuts a chain into certificates."""
    if len(der) < 2 or der[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 4 or len(der) < 2 + count:
        raise ValueError("bad DER length")
    size = 2 + count + int.from_bytes(der[2 : 2 + count], "big")
    if size > len(der):
        raise ValueError("truncated DER element")
    return size


ROUTES = [
    route("GET", r"/api/system/checkin", get_check, cost="crypto"),
    route("POST", r"/api/system/checkin", post_checked, cost="crypto"),
]
