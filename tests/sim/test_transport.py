"""Transport rules every endpoint shares (reference §1.2, §18.11), checked on the wire."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest
import requests

from station.sim.ppa.device import SimulatedPpa
from tests.simtools import TIMEOUT, get, post


def raw_exchange(unit: SimulatedPpa, request: bytes) -> bytes:
    """Send raw bytes to the unit's HTTP port and return everything it answers until it closes."""
    port = int(unit.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_replies_close_the_connection_and_are_labelled_json(unit: SimulatedPpa) -> None:
    for response in (get(unit.http_url, "/api/system/status"), get(unit.http_url, "/api/nope")):
        assert response.headers["Connection"] == "close"
        assert response.headers["Content-Type"] == "application/json"
    missing = get(unit.http_url, "/api/nope")
    assert missing.status_code == 404
    assert missing.content == b""
    assert missing.headers["Content-Length"] == "0"


def test_connection_is_not_reused(unit: SimulatedPpa) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(unit.http_url.rsplit(":", 1)[1]), timeout=TIMEOUT)
    conn.request("GET", "/api/system/status")
    assert conn.getresponse().read()
    assert conn.sock is None  # http.client saw Connection: close and closed its side


def test_post_without_content_length_is_411(unit: SimulatedPpa) -> None:
    answer = raw_exchange(
        unit, b"POST /api/auth/init HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 411")


def test_oversized_json_is_413_without_reading_the_body(unit: SimulatedPpa) -> None:
    head = (
        b"POST /api/auth/init HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 7301\r\n\r\n"
    )
    answer = raw_exchange(unit, head)  # no body sent at all: the unit must not wait for it
    assert answer.startswith(b"HTTP/1.1 413")


def test_body_at_the_limit_is_read(unit: SimulatedPpa) -> None:
    body = b'{"x":"' + b"a" * (7300 - 8) + b'"}'
    assert len(body) == 7300
    response = requests.post(
        unit.http_url + "/api/nope", data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"a":1}', "text/plain"),
        (b'{"a":1}', None),
        (b"{not json", "application/json"),
        (b"[1,2]", "application/json"),
    ],
)
def test_bad_content_type_or_json_is_400(unit: SimulatedPpa, body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(unit.http_url + "/api/auth/init", data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.content == b""


def test_options_answers_cors_preflight(unit: SimulatedPpa) -> None:
    response = requests.options(unit.http_url + "/api/anything", timeout=TIMEOUT)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, DELETE, OPTIONS"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Max-Age"] == "86400"


@pytest.mark.parametrize(
    ("allow", "origin", "status"),
    [
        ("*", "https://anything.example", 200),
        ("https://ok.example", "https://ok.example", 200),
        ("https://ok.example", "https://evil.example", 412),
        ("*.factory.example", "https://st1.factory.example:8443", 200),
        ("*.factory.example", "https://factory.example.evil", 412),
        ("https://a.example, https://b.example", "https://b.example", 200),
    ],
)
def test_origin_allow_list(unit: SimulatedPpa, allow: str, origin: str, status: int) -> None:
    unit.state.config.origin = allow
    response = get(unit.http_url, "/api/system/status", headers={"Origin": origin})
    assert response.status_code == status
    if status == 200:
        assert response.headers["Access-Control-Allow-Origin"] == origin


def test_invalid_bearer_is_401_before_routing(unit: SimulatedPpa) -> None:
    assert get(unit.http_url, "/api/no/such/path", token="not.a.token").status_code == 401
    assert get(unit.http_url, "/api/no/such/path").status_code == 404
    assert (
        get(unit.http_url, "/api/system/status", headers={"Authorization": "Basic eDp5"}).status_code == 401
    )


def test_check_order_413_400_412_401(unit: SimulatedPpa) -> None:
    unit.state.config.origin = "https://ok.example"
    evil = {"Origin": "https://evil.example", "Authorization": "Bearer bad"}
    too_big = requests.post(
        unit.http_url + "/api/auth/init",
        data=b"x" * 8000,
        headers={"Content-Type": "text/plain", **evil},
        timeout=TIMEOUT,
    )
    assert too_big.status_code == 413
    bad_json = requests.post(
        unit.http_url + "/api/auth/init",
        data=b"{",
        headers={"Content-Type": "application/json", **evil},
        timeout=TIMEOUT,
    )
    assert bad_json.status_code == 400
    assert post(unit.http_url, "/api/auth/init", {}, headers=evil).status_code == 412
    assert (
        post(unit.http_url, "/api/auth/init", {}, headers={"Authorization": "Bearer bad"}).status_code == 401
    )


def test_https_is_tls13_only(unit: SimulatedPpa) -> None:
    assert get(unit.https_url, "/api/system/status").status_code == 200
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    port = int(unit.https_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock, pytest.raises(ssl.SSLError):
        context.wrap_socket(sock).do_handshake()


def test_status_https_flag_only_over_plain_http(unit: SimulatedPpa) -> None:
    assert get(unit.http_url, "/api/system/status").json()["https"] is True
    assert "https" not in get(unit.https_url, "/api/system/status").json()
