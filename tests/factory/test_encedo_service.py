"""Encedo's service (https://api.encedo.com) as the station meets it, without ever contacting it.

Requests that would leave this machine go to a session double that fails as the network would; the
shape of the service itself (no ``GET /ca``) is the cloud simulator's ``like_encedo`` on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core.config import parse
from station.core.errors import BackendError, BackendRefused, ConfigError
from station.factory.backend import LocalBackend
from station.factory.remote import ENCEDO_URL, NoCaService, RemoteBackend, configured_ca, read_ca_certificate
from station.sim.cloud import CloudBackendServer

ENCEDO_NO_ANSWER = (
    "Encedo's check-in service at https://api.encedo.com did not answer ({cause}; POST /checkin): "
    "check the line PC's internet connection, and its proxy if the site has one (HTTPS_PROXY)"
)


class _Offline(requests.Session):
    """A session whose every request fails as ``error`` (never a socket opened)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.asked: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(str(url))
        raise self.error


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def refused() -> Exception:
    error = requests.ConnectionError()
    error.__context__ = ConnectionRefusedError()
    return error


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (refused(), "connection refused (no service listening)"),
        (requests.ConnectionError(socket.gaierror()), "host name not resolved"),
        (requests.ConnectTimeout(), "no reply within 10 s"),
    ],
    ids=["refused", "dns", "timeout"],
)
def test_encedos_service_not_answering_is_named_with_what_to_check(
    no_proxies: None, error: Exception, cause: str
) -> None:
    offline = _Offline(error)
    with pytest.raises(BackendError) as failed:
        RemoteBackend(ENCEDO_URL, session=offline).checkin("a.b.c")
    assert not isinstance(failed.value, BackendRefused)
    assert str(failed.value) == ENCEDO_NO_ANSWER.format(cause=cause)
    assert offline.asked == [f"{ENCEDO_URL}/checkin"]


def test_a_tls_failure_points_at_the_clock_and_an_intercepting_proxy(no_proxies: None) -> None:
    verify = urllib3.exceptions.SSLError(ssl.SSLCertVerificationError("certificate verify failed"))
    failing = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/ca", reason=verify))  # type: ignore[arg-type]
    with pytest.raises(BackendError) as failed:
        RemoteBackend(ENCEDO_URL, session=_Offline(failing)).checkin("a.b.c")
    assert str(failed.value) == (
        "Encedo's check-in service at https://api.encedo.com could not be trusted (TLS handshake or "
        "certificate check failed; POST /checkin): check the line PC's date and time, and whether a proxy "
        "intercepts TLS (then its CA certificate goes in REQUESTS_CA_BUNDLE)"
    )


def test_encedos_service_behind_a_proxy_names_the_proxy_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://line7:pa55word@10.0.0.8:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    failing = requests.exceptions.ProxyError(urllib3.exceptions.ProxyError("proxy", ConnectionRefusedError()))
    with pytest.raises(BackendError) as failed:
        RemoteBackend(ENCEDO_URL, session=_Offline(failing)).issue_device_certificate("csr", "key", "g")
    message = str(failed.value)
    assert message == (
        "Encedo's certificate service at https://api.encedo.com did not answer (the proxy could not be "
        "reached or would not connect us; POST /provisioning): check the proxy 10.0.0.8:3128 "
        "(HTTPS_PROXY, NO_PROXY) and the line PC's internet connection"
    )
    assert "pa55word" not in message and "line7" not in message


# --- the factory CA certificate from the configuration ----------------------------------------------------


def ca_pem(tmp_path: Path, backend: LocalBackend) -> Path:
    path = tmp_path / "factory-ca.pem"
    path.write_bytes(backend.ca_certificate().public_bytes(serialization.Encoding.PEM))
    return path


def remote_config(tmp_path: Path, **backend: str) -> Any:
    document = {"station": {"id": "st01"}, "backend": {"kind": "remote", **backend}}
    config = parse(document, source=str(tmp_path / "station.toml"))
    return type(config)(**{**config.__dict__, "path": str(tmp_path / "station.toml")})


def test_a_backend_shaped_like_encedos_has_no_ca_and_the_configured_one_is_used(
    tmp_path: Path, backend: LocalBackend
) -> None:
    with CloudBackendServer(backend, like_encedo=True) as cloud:
        with pytest.raises(NoCaService) as missing:
            RemoteBackend(cloud.url).ca_certificate()
        assert '[backend] ca_certificate = "factory-ca.pem"' in str(missing.value)
        assert cloud.requests_seen == [("GET", "/ca")]
        config = remote_config(tmp_path, url=cloud.url, ca_certificate="factory-ca.pem")
        ca_pem(tmp_path, backend)
        remote = RemoteBackend(cloud.url, ca=configured_ca(config))
        assert remote.ca_certificate() == backend.ca_certificate()
        assert cloud.requests_seen == [("GET", "/ca")]  # the configured CA: the service is not asked


def test_encedos_url_without_a_ca_certificate_is_refused_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused_:
        configured_ca(remote_config(tmp_path, url=ENCEDO_URL))
    message = str(refused_.value)
    assert "[backend.ca_certificate]" in message and "Encedo's service has no GET /ca" in message


def leaf_certificate() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a CA")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the factory CA certificate (No such file or directory)"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM certificate"),
        (leaf_certificate(), "not a CA certificate (basicConstraints CA:FALSE)"),
    ],
    ids=["missing", "not-a-certificate", "not-a-ca"],
)
def test_a_ca_certificate_file_that_is_no_ca_certificate_is_refused(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    if content is not None:
        (tmp_path / "ca.pem").write_bytes(content)
    with pytest.raises(ConfigError) as refused_:
        configured_ca(remote_config(tmp_path, url=ENCEDO_URL, ca_certificate="ca.pem"))
    message = str(refused_.value)
    assert "[backend.ca_certificate]" in message and str(tmp_path / "ca.pem") in message
    assert problem in message
    with pytest.raises(ConfigError, match=r"backend\.ca_certificate"):
        read_ca_certificate(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ({"kind": "local", "ca_certificate": "ca.pem"}, "ca_certificate is for a remote backend"),
        ({"kind": "remote", "url": ENCEDO_URL, "ca_certificate": " "}, "must name the factory CA's PEM file"),
        ({"kind": "remote", "url": ENCEDO_URL, "ca_certificate": 1}, "expected str"),
    ],
    ids=["local", "empty", "not-text"],
)
def test_the_ca_certificate_settings_shape(backend: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused_:
        parse({"station": {"id": "st01"}, "backend": backend})
    assert "[backend.ca_certificate]" in str(refused_.value)
