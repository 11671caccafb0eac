"""The trusted check-in backend's side of check-in (reference §6, §18.4): verify ``check``, sign ``checked``.

>>> backend, unit = bytes(range(32)), bytes(range(32, 64))          # raw X25519 private keys
>>> shared = x25519_shared_secret(unit, b64decode(x25519_public_b64(backend)))     # the unit's side
>>> request = verify_check(encode_ecdh_jwt({"jti": "q1", "iss": x25519_public_b64(unit)}, shared), backend)
>>> parse_jwt(sign_checked(request, backend, iat=1700000000, status="OK")).claims["iat"]  # the unit's new RTC
1700000000
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.core.codec import b64decode, b64encode, x25519_public_b64
from station.core.errors import ProtocolError, VerificationError
from station.devices.ppa.protocol import (
    encode_ecdh_jwt,
    is_ecdh_header,
    parse_jwt,
    verify_hs256,
    x25519_shared_secret,
)


@dataclass(frozen=True)
class CheckRequest:
    """A verified ``check`` token from a unit: whose session key asked, with which nonce."""

    jti: str
    session_key: bytes
    claims: dict[str, Any]


def verify_check(check: str, backend_private_key: bytes) -> CheckRequest:
    """Verify a unit's ``check`` JWS as the trusted backend: HMAC key = X25519(backend, unit session)."""
    jwt = parse_jwt(check)
    if not is_ecdh_header(jwt.header):
        raise VerificationError("check token header is not an ECDH-JWT")
    iss, jti = jwt.claims.get("iss"), jwt.claims.get("jti")
    if not isinstance(iss, str) or not isinstance(jti, str):
        raise ProtocolError("check token lacks iss or jti")
    session_key = b64decode(iss)
    verify_hs256(jwt, x25519_shared_secret(backend_private_key, session_key))
    return CheckRequest(jti, session_key, jwt.claims)


def sign_checked(
    request: CheckRequest,
    backend_private_key: bytes,
    *,
    iat: int,
    status: str = "OK",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The backend's ``checked`` reply: sets the unit's RTC to ``iat`` and carries the action ``status``."""
    claims: dict[str, Any] = {
        "jti": request.jti,
        "iat": iat,
        "iss": x25519_public_b64(backend_private_key),
        "aud": b64encode(request.session_key),
        "status": status,
    }
    claims.update(extra or {})
    return encode_ecdh_jwt(claims, x25519_shared_secret(backend_private_key, request.session_key))
