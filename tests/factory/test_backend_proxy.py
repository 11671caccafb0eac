"""Proxies from the environment: the factory backend's requests go through them, a unit's never do.

Everything here runs on 127.0.0.1: the proxy (``tests/proxyserver.py``) relays to loopback only.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.core.codec import x25519_public_key
from station.core.errors import BackendError
from station.devices.ppa.client import PpaClient
from station.devices.transport import TlsPin
from station.factory.backend import LocalBackend
from station.factory.remote import RemoteBackend
from station.sim.cloud import CloudBackendServer
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.identity import https_credentials
from tests.proxyserver import ProxyServer

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment without any proxy setting (either case); the test sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
def proxy() -> Iterator[ProxyServer]:
    with ProxyServer() as server:
        yield server


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (the TLS cloud's; the client's CA bundle)."""
    cert_pem, key_pem = https_credentials("localhost")
    cert, key = tmp_path / "cloud.crt.pem", tmp_path / "cloud.key.pem"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return cert, key


def relayed_check_in(unit: SimulatedPpa, remote: RemoteBackend) -> str:
    """A check-in as the station makes it: the unit over the station's transport, the check relayed."""
    client = PpaClient.at(unit.http_url)
    return client.checkin(remote.checkin(client.checkin_request())).status


def free_port_url() -> str:
    """An address on 127.0.0.1 where nothing listens (a port the OS just gave out and took back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def tls_context(files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*files)
    return context


def test_http_proxy_forwards_the_backends_requests(
    no_proxies: pytest.MonkeyPatch, proxy: ProxyServer, backend: LocalBackend, trusting_unit: SimulatedPpa
) -> None:
    with CloudBackendServer(backend, like_encedo=True) as cloud:
        no_proxies.setenv("HTTP_PROXY", proxy.url)
        remote = RemoteBackend(cloud.url, timeout=5)
        assert relayed_check_in(trusting_unit, remote) == "OK"
        assert proxy.asked == [("POST", f"{cloud.url}/checkin")]  # an absolute URI: through the proxy
        assert cloud.requests_seen == [("POST", "/checkin")]


def test_https_proxy_tunnels_the_backends_requests(
    no_proxies: pytest.MonkeyPatch,
    proxy: ProxyServer,
    backend: LocalBackend,
    trusting_unit: SimulatedPpa,
    tls_files: tuple[Path, Path],
) -> None:
    with CloudBackendServer(backend, like_encedo=True, tls=tls_context(tls_files)) as cloud:
        no_proxies.setenv("https_proxy", proxy.url)
        remote = RemoteBackend(cloud.url, timeout=5, ca_bundle=str(tls_files[0]))
        assert cloud.url.startswith("https://127.0.0.1:")
        assert relayed_check_in(trusting_unit, remote) == "OK"
        assert proxy.asked == [("CONNECT", cloud.url.removeprefix("https://"))]
        assert cloud.requests_seen == [("POST", "/checkin")]


def test_no_proxy_sends_the_backends_requests_directly(
    no_proxies: pytest.MonkeyPatch, proxy: ProxyServer, backend: LocalBackend, trusting_unit: SimulatedPpa
) -> None:
    with CloudBackendServer(backend, like_encedo=True) as cloud:
        no_proxies.setenv("HTTP_PROXY", proxy.url)
        no_proxies.setenv("NO_PROXY", "127.0.0.1")
        assert relayed_check_in(trusting_unit, RemoteBackend(cloud.url, timeout=5)) == "OK"
        assert proxy.asked == []
        assert cloud.requests_seen == [("POST", "/checkin")]


def test_a_proxy_that_does_not_answer_is_named_not_the_service(
    no_proxies: pytest.MonkeyPatch, backend: LocalBackend
) -> None:
    dead = free_port_url()
    with CloudBackendServer(backend, like_encedo=True) as cloud:
        no_proxies.setenv("HTTP_PROXY", dead.replace("http://", "http://line:s3cret@"))
        with pytest.raises(BackendError) as failed:
            RemoteBackend(cloud.url, timeout=5).checkin("a.b.c")
        assert cloud.requests_seen == []
    message = str(failed.value)
    assert "did not answer (the proxy could not be reached or would not connect us; POST /checkin)" in message
    assert f"check the proxy {dead.removeprefix('http://')} (HTTP_PROXY, NO_PROXY)" in message
    assert "s3cret" not in message and "line:" not in message


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_units_never_go_through_a_proxy(
    no_proxies: pytest.MonkeyPatch, proxy: ProxyServer, scheme: str
) -> None:
    for name in PROXY_VARIABLES[:3]:
        no_proxies.setenv(name, proxy.url)
        no_proxies.setenv(name.lower(), proxy.url)
    with SimulatedPpa(backend_key=x25519_public_key(os.urandom(32))) as unit:
        if scheme == "http":
            client = PpaClient.at(unit.http_url)
        else:
            pem = ssl.get_server_certificate(("127.0.0.1", int(unit.https_url.rsplit(":", 1)[1])))
            fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
            client = PpaClient.at(unit.https_url, tls=TlsPin(fingerprint=fingerprint))
        assert client.status().inited is False
        assert [path for _, path in unit.requests_seen] == ["/api/system/status"]
    assert proxy.asked == []


def test_a_service_certificate_the_station_does_not_trust_is_named(
    no_proxies: pytest.MonkeyPatch, backend: LocalBackend, tls_files: tuple[Path, Path]
) -> None:
    with (
        CloudBackendServer(backend, like_encedo=True, tls=tls_context(tls_files)) as cloud,
        pytest.raises(BackendError) as failed,
    ):
        RemoteBackend(cloud.url, timeout=5).checkin("a.b.c")  # the system's CAs: not this one
    assert str(failed.value).startswith(
        f"The factory backend's check-in service at {cloud.url} could not be trusted (TLS handshake or "
        "certificate check failed; POST /checkin): check the line PC's date and time"
    )
