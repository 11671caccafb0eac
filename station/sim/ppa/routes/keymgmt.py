"""Key management and crypto paths (reference §10, §14, §18.12): present, but not simulated.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))
>>> get = lambda scheme: unit.handle(Request("GET", "/api/keymgmt/list", "", {}, b"", scheme))
>>> (get("http").status, get("http").reason), get("https").status     # 418, empty reason; 404 over HTTPS
((418, ''), 404)
"""

from __future__ import annotations

import re

from station.sim.ppa.http import Request, Response, empty
from station.sim.ppa.routes.table import Route, route
from station.sim.ppa.unit import Unit

SEGMENT = r"[^/]+"

KEYMGMT_PATHS = [
    ("GET", rf"/api/keymgmt/list(?:/{SEGMENT}(?:/{SEGMENT})?)?"),
    ("POST", r"/api/keymgmt/search"),
    ("GET", rf"/api/keymgmt/get/{SEGMENT}"),
    ("POST", r"/api/keymgmt/create"),
    ("POST", r"/api/keymgmt/import"),
    ("POST", r"/api/keymgmt/derive"),
    ("POST", r"/api/keymgmt/update"),
]
CRYPTO_PATHS = [
    "hmac/verify",
    "exdsa/sign",
    "exdsa/verify",
    "cipher/encrypt",
    "cipher/decrypt",
    "cipher/wrap",
    "cipher/unwrap",
    "ecdh",
    "pqc/mlkem/encaps",
    "pqc/mlkem/decaps",
    "pqc/mldsa/sign",
    "pqc/mldsa/verify",
]
QUIRK_PATHS = [  # fw 1.2.2 answers 409, not 418, on these over HTTP (reference §14)
    ("POST", r"/api/crypto/hmac/hash"),
    ("DELETE", rf"/api/keymgmt/delete/{SEGMENT}"),
]


def tls_required(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """418 with an empty reason phrase over HTTP; not simulated (404) over HTTPS."""
    return empty(418, reason="") if req.scheme == "http" else empty(404)


def tls_required_quirk(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """The two paths whose HTTP refusal is 409 in fw 1.2.2; 404 over HTTPS like the rest."""
    return empty(409) if req.scheme == "http" else empty(404)


def _routes() -> list[Route]:
    table = [route(method, pattern, tls_required) for method, pattern in KEYMGMT_PATHS]
    table += [route("POST", rf"/api/crypto/{re.escape(path)}", tls_required) for path in CRYPTO_PATHS]
    table += [route(method, pattern, tls_required_quirk) for method, pattern in QUIRK_PATHS]
    return table


ROUTES = _routes()
