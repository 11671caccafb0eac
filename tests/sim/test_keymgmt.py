"""Key management and crypto paths (reference §10, §14, §18.12): 418 (or 409) over HTTP, 404 over HTTPS."""

from __future__ import annotations

import socket

import pytest
import requests

from station.sim.ppa.device import SimulatedPpa
from tests.simtools import TIMEOUT

KID = "0123456789abcdef0123456789abcdef"
TLS_REQUIRED = [
    ("GET", "/api/keymgmt/list"),
    ("GET", "/api/keymgmt/list/15"),
    ("GET", "/api/keymgmt/list/15/5"),
    ("POST", "/api/keymgmt/search"),
    ("GET", f"/api/keymgmt/get/{KID}"),
    ("POST", "/api/keymgmt/create"),
    ("POST", "/api/keymgmt/import"),
    ("POST", "/api/keymgmt/derive"),
    ("POST", "/api/keymgmt/update"),
    *[
        ("POST", f"/api/crypto/{op}")
        for op in (
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
        )
    ],
]
QUIRKS = [("POST", "/api/crypto/hmac/hash"), ("DELETE", f"/api/keymgmt/delete/{KID}")]


def send(base: str, method: str, path: str) -> requests.Response:
    body = {"kid": KID} if method == "POST" else None  # json=None sends no body
    return requests.request(method, base + path, timeout=TIMEOUT, verify=False, json=body)


@pytest.mark.parametrize(("method", "path"), TLS_REQUIRED)
def test_http_answers_418_with_an_empty_reason(unit: SimulatedPpa, method: str, path: str) -> None:
    response = send(unit.http_url, method, path)
    assert response.status_code == 418
    assert response.reason == ""
    assert response.content == b""
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("method", "path"), QUIRKS)
def test_fw_122_quirks_answer_409_over_http(unit: SimulatedPpa, method: str, path: str) -> None:
    response = send(unit.http_url, method, path)
    assert (response.status_code, response.content) == (409, b"")


@pytest.mark.parametrize(("method", "path"), TLS_REQUIRED + QUIRKS)
def test_https_answers_404(unit: SimulatedPpa, method: str, path: str) -> None:
    response = send(unit.https_url, method, path)
    assert (response.status_code, response.content) == (404, b"")


def test_status_line_of_418_has_no_reason_phrase(unit: SimulatedPpa) -> None:
    port = int(unit.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /api/keymgmt/list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 418 \r\n")


def test_methods_that_are_not_routed_are_404(unit: SimulatedPpa) -> None:
    assert send(unit.http_url, "DELETE", "/api/keymgmt/list").status_code == 404
    assert send(unit.http_url, "GET", "/api/crypto/hmac/hash").status_code == 404
