"""Secure-element attestation and one-shot provisioning (reference §3.4-§3.6, §18.5, §19).

>>> import json; from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))           # not served: a handler is a plain function
>>> offer = json.loads(attestation(unit, Request("GET", "", "", {}, b"", "http"), None).body)
>>> sorted(offer), offer["csr"].splitlines()[0]           # a blank secure element offers a CSR
(['csr', 'genuine', 'key'], '-----BEGIN CERTIFICATE REQUEST-----')
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.core.codec import b64decode, b64encode, p256_uncompressed
from station.core.errors import ProtocolError
from station.devices.ppa.protocol import make_genuine, verify_genuine
from station.sim.ppa.auth import require
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.identity import attestation_csr
from station.sim.ppa.routes.table import route
from station.sim.ppa.unit import Unit


def attestation(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """``{csr, key, genuine}`` for a blank secure element, ``{crt, genuine}`` once provisioned.

    409 for a latched ``fls_state`` comes before the token check, as on the other areas: a unit locked
    by check-in stops attesting even for a token issued before the lock.
    """
    if dev.state.fls_state != 0:
        return empty(409)
    refused = require(dev, req, None, fresh_ok=True)
    if refused is not None:
        return refused
    hardware = dev.state.hardware
    body: dict[str, Any]
    if dev.state.se_certificate is None:
        spki = hardware.se_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        body = {"csr": attestation_csr(hardware.se_key, hardware.genuine_id), "key": b64encode(spki)}
    else:
        body = {"crt": b64encode(dev.state.se_certificate)}
    body["genuine"] = make_genuine(hardware.se_key, dev.clock.now())
    return reply(body)


def provisioning(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Store the secure element's certificate, once. Checks in the order of reference §18.5."""
    if dev.state.initialised:
        return empty(403)
    if dev.state.se_certificate is not None:
        return empty(406)
    body = req.json or {}
    der = _certificate_der(body.get("crt"))
    if der is None:
        return empty(400)
    if not _genuine_is_ours(dev, body.get("genuine")) or not _certifies_se_key(dev, der):
        return empty(406)
    dev.state.se_certificate = der
    return empty(200)


def _certificate_der(value: object) -> bytes | None:
    """The DER of one X.509 certificate sent as base64, or None (400). The SE holds one certificate."""
    if not isinstance(value, str):
        return None
    try:
        der = b64decode(value)
        x509.load_der_x509_certificate(der)
    except (ProtocolError, ValueError):
        return None
    return der


def _genuine_is_ours(dev: Unit, token: object) -> bool:
    """Made by this secure element within [now - 600 s, now + 60 s] of the unit's own clock (§18.2)."""
    if not isinstance(token, str):
        return False
    try:
        verify_genuine(token, dev.state.hardware.se_key.public_key(), now=dev.clock.now())
    except ProtocolError:
        return False
    return True


def _certifies_se_key(dev: Unit, der: bytes) -> bool:
    """The certificate's public key is the secure element's key; the issuer is deliberately not checked."""
    try:
        subject_key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:  # an unsupported key algorithm in an otherwise well-formed certificate
        return False
    if not isinstance(subject_key, ec.EllipticCurvePublicKey):
        return False
    ours = p256_uncompressed(dev.state.hardware.se_key.public_key())
    return hmac.compare_digest(p256_uncompressed(subject_key), ours)


ROUTES = [
    route("GET", r"/api/system/config/attestation", attestation, cost="crypto"),
    route("POST", r"/api/system/config/provisioning", provisioning, cost="crypto"),
]
