"""RemoteBackend over plain HTTP on 127.0.0.1 against ``sim/cloud.py``, end to end with a simulated unit."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.core.errors import BackendError, BackendRefused
from station.devices.ppa import protocol as p
from station.factory.backend import LocalBackend
from station.factory.ca import verify_device_certificate
from station.factory.remote import RemoteBackend
from station.sim.cloud import CloudBackendServer
from station.sim.ppa.device import SimulatedPpa
from tests.factory.conftest import (
    ATTESTATION,
    NOW,
    PROVISIONING,
    SettableClock,
    check_in,
    csr_pem,
    get_json,
    post,
    spki_b64,
)


@pytest.fixture
def cloud(backend: LocalBackend) -> Iterator[CloudBackendServer]:
    with CloudBackendServer(backend) as server:
        yield server


@pytest.fixture
def remote(cloud: CloudBackendServer, backend: LocalBackend) -> RemoteBackend:
    return RemoteBackend(cloud.url, checkin_key=backend.checkin_public_key(), timeout=5)


def test_end_to_end_checkin_certificate_and_provisioning(
    trusting_unit: SimulatedPpa, remote: RemoteBackend, backend: LocalBackend
) -> None:
    assert check_in(trusting_unit.http_url, remote.checkin) == {"status": "OK"}
    att = get_json(trusting_unit.http_url, ATTESTATION)
    der = remote.issue_device_certificate(att["csr"], att["key"], att["genuine"])
    ca = remote.ca_certificate()
    assert ca == backend.ca_certificate()
    cert = verify_device_certificate(der, ca, at=dt.datetime.fromtimestamp(NOW, dt.UTC))
    (cn,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert cn.value == f"#{trusting_unit.state.hardware.genuine_id}"
    reply = post(
        trusting_unit.http_url, PROVISIONING, {"crt": codec.b64encode(der), "genuine": att["genuine"]}
    )
    assert reply.status_code == 200
    assert get_json(trusting_unit.http_url, ATTESTATION)["crt"] == codec.b64encode(der)


def test_checkin_action_reaches_the_unit(trusting_unit: SimulatedPpa, remote: RemoteBackend) -> None:
    assert check_in(trusting_unit.http_url, lambda c: remote.checkin(c, action="R"))["status"] == "R"


def test_refusal_carries_the_reason_path_and_status(
    trusting_unit: SimulatedPpa, remote: RemoteBackend, clock: SettableClock, cloud: CloudBackendServer
) -> None:
    check_in(trusting_unit.http_url, remote.checkin)
    att = get_json(trusting_unit.http_url, ATTESTATION)
    clock.advance(3600)
    with pytest.raises(BackendRefused) as info:
        remote.issue_device_certificate(att["csr"], att["key"], att["genuine"])
    message = str(info.value)
    assert f"{cloud.url}/provisioning" in message
    assert "HTTP 403" in message
    assert "genuine token is stale" in message
    stranger = p.make_genuine(ec.generate_private_key(ec.SECP256R1()), int(clock()))
    with pytest.raises(BackendRefused, match="belongs to another key"):
        remote.issue_device_certificate(att["csr"], att["key"], stranger)


def test_malformed_requests_and_unknown_paths_are_4xx(cloud: CloudBackendServer) -> None:
    assert requests.post(cloud.url + "/checkin", json={}, timeout=5).status_code == 400
    assert requests.post(cloud.url + "/checkin", data=b"[1]", timeout=5).status_code == 400
    assert requests.post(cloud.url + "/nowhere", json={"a": "b"}, timeout=5).status_code == 404
    bad_action = requests.post(cloud.url + "/checkin", json={"check": "x", "action": "X"}, timeout=5)
    assert bad_action.status_code == 400
    assert bad_action.headers["Connection"] == "close"
    with pytest.raises(BackendRefused, match=r"/checkin refused \(HTTP 403\): check token refused"):
        RemoteBackend(cloud.url).checkin("a.b.c")


def test_checkin_key_must_be_configured(cloud: CloudBackendServer) -> None:
    with pytest.raises(BackendError, match="check-in public key is not configured"):
        RemoteBackend(cloud.url).checkin_public_key()


def test_an_unreachable_backend_is_named_with_what_to_check(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = CloudBackendServer(backend).start()
    url = server.url
    server.stop()
    with pytest.raises(BackendError) as failed:
        RemoteBackend(url, timeout=2).checkin("a.b.c")
    assert str(failed.value) == (
        f"The factory backend's check-in service at {url} did not answer (connection refused "
        "(no service listening); POST /checkin): check that the service is running on this PC"
    )


class _Garbage(BaseHTTPRequestHandler):
    """A misbehaving service: 200 with garbage, 500, or a certificate for the wrong key."""

    replies: dict[str, tuple[int, bytes]] = {}

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, body = self.replies.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_malformed_replies_are_backend_errors(garbage_url: str, backend: LocalBackend) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    wrong = backend.issue_device_certificate(
        csr_pem(other_key), spki_b64(other_key.public_key()), p.make_genuine(other_key, NOW)
    )
    _Garbage.replies = {
        "/checkin": (200, b"<html>not json</html>"),
        "/provisioning": (200, b'{"crt": "%s", "genuine": "g"}' % codec.b64encode(wrong).encode()),
        "/ca": (500, b'{"error": "disk full"}'),
    }
    remote = RemoteBackend(garbage_url)
    with pytest.raises(BackendError, match=r"/checkin: reply is not JSON \(HTTP 200\)"):
        remote.checkin("a.b.c")
    mine = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(BackendError, match="crt certifies another key"):
        remote.issue_device_certificate(csr_pem(mine), spki_b64(mine.public_key()), "g")
    with pytest.raises(BackendError, match=r"/ca failed \(HTTP 500\): disk full") as info:
        remote.ca_certificate()
    assert not isinstance(info.value, BackendRefused)
    _Garbage.replies = {"/provisioning": (200, b'{"genuine": "g"}')}
    with pytest.raises(BackendError, match="reply field 'crt' is missing"):
        remote.issue_device_certificate(csr_pem(mine), spki_b64(mine.public_key()), "g")
