"""``RemoteBackend``: the factory authority as an HTTPS service (Encedo's: no ``GET /ca``, the CA configured).

>>> RemoteBackend("https://factory.example/").checkin_public_key()    # units have the check-in key built in
Traceback (most recent call last):
station.core.errors.BackendError: https://factory.example: the remote backend's check-in public key is not ...
>>> service_words("https://api.encedo.com", "/checkin"), service_words("http://127.0.0.1:8000", "/ca")
("Encedo's check-in service", "the factory backend's CA certificate service")
"""

from __future__ import annotations

import http.client
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.exceptions
from cryptography import x509
from requests.adapters import HTTPAdapter

from station.core.codec import b64decode
from station.core.config import StationConfig
from station.core.errors import BackendError, BackendRefused, ConfigError, ProtocolError
from station.core.strictjson import JsonRefused, strict_loads
from station.core.text import printable
from station.devices.http import describe_failure
from station.devices.transport import (
    CHUNK,
    DEFAULT_CAP,
    WATCHED_POOLS,
    Interrupted,
    ReplyTooLarge,
    Watched,
    current_deadline,
    encoding_problem,
    read_capped,
)
from station.factory.ca import certificate_matches_key

ENCEDO_URL = "https://api.encedo.com"  # Encedo's check-in and provisioning service (reference §13)
ENCEDO_HOSTS = ("api.encedo.com",)
CA_SETTING = "[backend] ca_certificate"
_PURPOSES = {"/checkin": "check-in", "/provisioning": "certificate", "/ca": "CA certificate"}
_ERROR_TEXT_LIMIT = 200
REPLY_CAP = DEFAULT_CAP  # every reply of the backend is a small JSON object or one PEM certificate
_HEADERS = {"Connection": "close", "Accept-Encoding": "identity"}


@dataclass(frozen=True)
class _Answer:
    status: int
    content: bytes


class _WatchedAdapter(HTTPAdapter):
    """Connections whose sockets the transport's watchdog shuts at the request's deadline (a reply
    dripping in, a handshake that hangs) or when the station stops (``transport.abort_all``)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):  # a SOCKS manager keeps its own connections
            manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


def _watched_session() -> requests.Session:
    session = requests.Session()  # proxies and CA bundle from the environment, as any HTTPS client
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RemoteBackend:
    """HTTPS client of an Encedo-compatible factory backend (implements ``Backend``)."""

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 10,
        ca_bundle: str | None = None,
        checkin_key: bytes | None = None,
        ca: x509.Certificate | None = None,
    ) -> None:
        """``ca``: the factory CA certificate from the configuration; None asks the service (``GET /ca``).

        ``ca_bundle`` is the CA bundle the service's TLS certificate is checked against (None: the
        system's, or ``REQUESTS_CA_BUNDLE``).
        """
        self.url = url.rstrip("/")
        self._session = session
        self._timeout = timeout
        self._verify: str | bool = ca_bundle if ca_bundle is not None else True
        self._checkin_key = checkin_key
        self._ca = ca
        self.ca_configured = ca is not None

    def __repr__(self) -> str:
        return f"RemoteBackend({self.url!r})"

    def checkin(self, check: str, *, action: str = "OK") -> str:
        body: dict[str, Any] = {"check": check}
        if action != "OK":
            body["action"] = action
        return _string_field(self._request("POST", "/checkin", body), "checked", f"{self.url}/checkin")

    def issue_device_certificate(self, csr_pem: str, key_b64: str, genuine: str) -> bytes:
        reply = self._request("POST", "/provisioning", {"csr": csr_pem, "key": key_b64, "genuine": genuine})
        crt = _string_field(reply, "crt", f"{self.url}/provisioning")
        try:
            der = b64decode(crt)
            x509.load_der_x509_certificate(der)
        except (ProtocolError, ValueError):
            raise BackendError(f"{self.url}/provisioning: crt is not a base64 DER certificate") from None
        if not certificate_matches_key(der, key_b64):
            raise BackendError(f"{self.url}/provisioning: crt certifies another key than the attestation key")
        return der

    def ca_certificate(self) -> x509.Certificate:
        """The configured CA certificate, else the service's ``GET /ca`` (asked once).

        A service without that path (Encedo's answers 404) raises ``NoCaService``, naming the setting.
        """
        if self._ca is None:
            try:
                answer = self._send("GET", "/ca", None)
            except ServiceRefused as refused:
                if refused.status == 404:
                    raise NoCaService(
                        f"{self.url} has no GET /ca (HTTP 404; Encedo's service has none): the factory CA "
                        f'certificate must come from the configuration: {CA_SETTING} = "factory-ca.pem"'
                    ) from None
                raise
            try:
                self._ca = x509.load_pem_x509_certificate(answer.content)
            except ValueError:
                raise BackendError(f"{self.url}/ca: reply is not a PEM certificate") from None
        return self._ca

    def checkin_public_key(self) -> bytes:
        if self._checkin_key is None:
            raise BackendError(
                f"{self.url}: the remote backend's check-in public key is not configured (checkin_key)"
            )
        return self._checkin_key

    def _request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._send(method, path, body)
        try:
            reply = strict_loads(answer.content)
        except JsonRefused as exc:
            raise BackendError(f"{self.url}{path}: reply {exc.problem} (HTTP {answer.status})") from None
        if not isinstance(reply, dict):
            raise BackendError(f"{self.url}{path}: reply is not a JSON object")
        return reply

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> _Answer:
        """One request within ``timeout`` by the wall clock (connect and whole reply; the thread's
        ``call_deadline`` when earlier), its reply read as a stream up to ``REPLY_CAP``, never redirected,
        never encoded; error statuses raise."""
        url = self.url + path
        deadline = time.monotonic() + self._timeout
        outer = current_deadline()  # a step's deadline bounds the backend's requests too
        if outer is not None and outer < deadline:
            deadline = outer
        try:
            with Watched(deadline):
                answer = self._exchange(method, url, body, deadline)
        except Interrupted as stop:
            if stop.aborted:
                raise BackendError(f"{url}: {stop.reason}") from None
            raise self._no_answer(
                method, path, f"no complete reply by the deadline ({self._timeout:g} s or the step's)"
            ) from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            raise self._no_answer(method, path, f"no reply within {self._timeout:g} s") from None
        except ReplyTooLarge as large:
            raise BackendError(f"{url}: {large}") from None
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
        ) as exc:
            cause = describe_failure(exc, peer="service")[1]
            if isinstance(exc, requests.exceptions.SSLError) or cause.startswith("TLS"):
                raise self._untrusted(method, path) from None
            raise self._no_answer(method, path, cause) from None
        if 400 <= answer.status < 500:
            refused = f"{url} refused (HTTP {answer.status}){_error_text(answer.content)}"
            raise ServiceRefused(refused, answer.status)
        if answer.status != 200:
            raise BackendError(f"{url} failed (HTTP {answer.status}){_error_text(answer.content)}")
        return answer

    def _no_answer(self, method: str, path: str, cause: str) -> BackendError:
        """A request that got no answer, in words an operator can act on: which service, what to check."""
        who = service_words(self.url, path)
        return BackendError(
            f"{who[0].upper()}{who[1:]} at {self.url} did not answer ({cause}; {method} {path}): "
            f"{what_to_check(self.url)}"
        )

    def _untrusted(self, method: str, path: str) -> BackendError:
        """A TLS handshake that failed: most often a wrong clock, or a proxy that intercepts TLS."""
        who = service_words(self.url, path)
        return BackendError(
            f"{who[0].upper()}{who[1:]} at {self.url} could not be trusted (TLS handshake or certificate "
            f"check failed; {method} {path}): check the line PC's date and time, and whether a proxy "
            "intercepts TLS (then its CA certificate goes in REQUESTS_CA_BUNDLE)"
        )

    def _exchange(self, method: str, url: str, body: dict[str, Any] | None, deadline: float) -> _Answer:
        session = self._session if self._session is not None else _watched_session()
        left = max(deadline - time.monotonic(), 0.001)
        try:
            response = session.request(
                method,
                url,
                json=body,
                headers=_HEADERS,
                timeout=(left, left),
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
            with response:
                problem = encoding_problem(response.headers, REPLY_CAP)
                if problem is not None:
                    raise BackendError(f"{url}: {problem} (HTTP {response.status_code})")
                content = read_capped(response.raw.stream(CHUNK, decode_content=False), REPLY_CAP)
        finally:
            if session is not self._session:
                session.close()
        return _Answer(response.status_code, content)


def configured_ca(config: StationConfig) -> x509.Certificate | None:
    """``[backend] ca_certificate``: the factory CA certificate (PEM, relative to the file), or None.

    Refused (ConfigError naming the setting and the file) unless it reads as a CA certificate; a
    remote backend at Encedo's service must have it, as that service has no ``GET /ca``.
    """
    setting = config.backend.ca_certificate
    if config.backend.kind != "remote":
        return None
    if setting is None:
        if (urlsplit(config.backend.url or "").hostname or "").lower() in ENCEDO_HOSTS:
            raise ConfigError(
                "Encedo's service has no GET /ca: name the factory CA certificate Encedo gave you, "
                'e.g. ca_certificate = "factory-ca.pem" (a PEM file, relative to this file)',
                path=config.path,
                key="backend.ca_certificate",
            )
        return None
    return read_ca_certificate(config.resolve(setting), source=config.path)


def read_ca_certificate(path: Path, *, source: str | None = None) -> x509.Certificate:
    """The factory CA certificate in PEM file ``path``; ConfigError (``source``'s
    ``[backend.ca_certificate]``) unless it reads as a CA certificate."""

    def refuse(problem: str) -> ConfigError:
        return ConfigError(f"{path}: {problem}", path=source, key="backend.ca_certificate")

    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise refuse(f"cannot read the factory CA certificate ({exc.strerror})") from None
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise refuse("not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and not constraints.ca:
        raise refuse(
            "not a CA certificate (basicConstraints CA:FALSE); name the CA that issues units' certificates"
        )
    return certificate


class ServiceRefused(BackendRefused):
    """The service answered a 4xx status (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class NoCaService(BackendRefused):
    """The service has no ``GET /ca`` (Encedo's): the CA certificate must be configured."""


def service_words(url: str, path: str) -> str:
    """Which service ``path`` at ``url`` is, in words: Encedo's by its host, else the factory backend's."""
    purpose = _PURPOSES.get(path, "factory")
    if (urlsplit(url).hostname or "").lower() in ENCEDO_HOSTS:
        return f"Encedo's {purpose} service"
    return f"the factory backend's {purpose} service"


def what_to_check(url: str) -> str:
    """What an operator checks when the service at ``url`` does not answer: the proxy the environment
    names for it (its address only: a proxy URL may carry a password), else this PC's service for a
    loopback address, else the internet connection."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    variable = "HTTPS_PROXY" if parts.scheme == "https" else "HTTP_PROXY"
    proxies = requests.utils.get_environ_proxies(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy:
        where = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        shown = f"{where.hostname}:{where.port}" if where.port else str(where.hostname)
        return f"check the proxy {shown} ({variable}, NO_PROXY) and the line PC's internet connection"
    if is_loopback_host(host):
        return "check that the service is running on this PC"
    return f"check the line PC's internet connection, and its proxy if the site has one ({variable})"


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address literal (not a name)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address: a service on this PC (plain http allowed, its own advice)."""
    return host.lower() == "localhost" or (is_ip(host) and ipaddress.ip_address(host).is_loopback)


def _string_field(reply: dict[str, Any], name: str, url: str) -> str:
    value = reply.get(name)
    if not isinstance(value, str):
        raise BackendError(f"{url}: reply field {name!r} is missing or not a string")
    return value


def _error_text(content: bytes) -> str:
    """``: <reason>`` from a JSON ``{"error": ...}`` body, if the service gave one (escaped, bounded)."""
    try:
        reason = strict_loads(content).get("error")
    except (ValueError, AttributeError):
        return ""
    return f": {printable(reason, _ERROR_TEXT_LIMIT)}" if isinstance(reason, str) else ""
