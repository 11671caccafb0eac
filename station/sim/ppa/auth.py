"""Bearer tokens on the simulated unit: issue, check, and the scope/role rules of reference §1.4.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32)); token = issue_token(unit, scope="system:config", sub=U)
>>> request = Request("GET", "/api/logger/key", "", {"authorization": f"Bearer {token}"}, b"", "http")
>>> parse_bearer(unit, request).role, require(unit, request, ["logger:get"]).status     # wrong scope
('U', 403)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from station.core.codec import b64encode
from station.core.errors import ProtocolError
from station.devices.ppa.protocol import make_bearer_token, make_nonce, parse_jwt, verify_hs256
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.http import Request, Response, empty
from station.sim.ppa.unit import Unit

DEFAULT_TOKEN_LIFETIME = 8 * 3600
U, M, EXT = "U", "M", "ext"


@dataclass(frozen=True)
class Bearer:
    """The verified claims of a bearer token."""

    scope: str
    sub: str
    iat: int
    exp: int

    @property
    def role(self) -> str:
        return self.sub if self.sub in (U, M) else EXT


class InvalidBearer(Exception):
    """The Authorization header is present but not a valid token of this boot (answer 401)."""


def parse_bearer(device: Unit, request: Request) -> Bearer | None:
    """None when no Authorization header was sent; raises InvalidBearer when it does not verify."""
    header = request.header("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        raise InvalidBearer
    try:
        jwt = parse_jwt(token.strip())
        verify_hs256(jwt, device.boot.token_key)
    except ProtocolError:
        raise InvalidBearer from None
    claims = jwt.claims
    fields = (claims.get("scope"), claims.get("sub"), claims.get("iat"), claims.get("exp"))
    if not (isinstance(fields[0], str) and isinstance(fields[1], str)):
        raise InvalidBearer
    if not (isinstance(fields[2], int) and isinstance(fields[3], int)):
        raise InvalidBearer
    bearer = Bearer(*fields)  # type: ignore[arg-type]
    if bearer.exp < device.clock.now():
        raise InvalidBearer
    return bearer


def issue_token(device: Unit, scope: str, sub: str, exp: int | None = None) -> str:
    """A token of this boot; ``exp`` None or 0 means the default 8 h from now."""
    now = device.clock.now()
    boot = device.boot
    jti = b64encode(make_nonce(now, os.urandom(28)))
    return make_bearer_token(
        boot.token_key, scope=scope, sub=sub, iat=now, exp=exp or now + DEFAULT_TOKEN_LIFETIME, jti=jti
    )


def require(
    device: Unit,
    request: Request,
    scopes: Iterable[str] | None,
    roles: Iterable[str] = (U, M, EXT),
    *,
    fresh_ok: bool = False,
) -> Response | None:
    """Check authorization for an endpoint; None means go ahead, else the error reply to send.

    ``scopes`` None means any valid token (scope not checked). ``fresh_ok`` lets a factory-fresh
    (not personalised) unit accept the call without a token. A wrong scope or role is 403 and is
    audit-logged as a failed scope check with the token's scope as data.
    """
    bearer = request_bearer(device, request)
    if bearer is None:
        if fresh_ok and not device.state.initialised:
            return None
        return empty(401)
    scope_ok = scopes is None or any(bearer.scope.startswith(s) for s in scopes)
    if not scope_ok or bearer.role not in tuple(roles):
        device.log(Event.FAILED_SCOPE_CHECK, Result.FAILED, subject=bearer.sub, data=bearer.scope.encode())
        return empty(403)
    return None


def request_subject(device: Unit, request: Request) -> str:
    """The audit-log subject of a request: the token's ``sub``, or empty without a token."""
    bearer = request_bearer(device, request)
    return "" if bearer is None else bearer.sub


def request_bearer(device: Unit, request: Request) -> Bearer | None:
    """The request's verified bearer (the transport stage already refused invalid ones)."""
    try:
        return parse_bearer(device, request)
    except InvalidBearer:  # pragma: no cover - refused before routing
        return None
