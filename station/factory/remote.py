"""``RemoteBackend``: the factory authority as an HTTPS service with Encedo-compatible endpoints.

>>> backend = RemoteBackend("https://factory.example/")     # units have the check-in key built in
>>> backend.checkin_public_key()
Traceback (most recent call last):
station.core.errors.BackendError: https://factory.example: the remote backend's check-in public key is not ...
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
import urllib3.exceptions
from cryptography import x509
from requests.adapters import HTTPAdapter

from station.core.codec import b64decode
from station.core.errors import BackendError, BackendRefused, ProtocolError
from station.core.strictjson import JsonRefused, strict_loads
from station.core.text import printable
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
    ) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._timeout = timeout
        self._verify: str | bool = ca_bundle if ca_bundle is not None else True
        self._checkin_key = checkin_key
        self._ca: x509.Certificate | None = None

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
        if self._ca is None:
            answer = self._send("GET", "/ca", None)
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
            raise BackendError(
                f"{url}: no complete reply by the deadline ({self._timeout:g} s or the step's)"
            ) from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            raise BackendError(f"{url}: no reply within {self._timeout:g} s") from None
        except ReplyTooLarge as large:
            raise BackendError(f"{url}: {large}") from None
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
        ) as exc:
            raise BackendError(f"{url}: {type(exc).__name__}") from None
        if 400 <= answer.status < 500:
            raise BackendRefused(f"{url} refused (HTTP {answer.status}){_error_text(answer.content)}")
        if answer.status != 200:
            raise BackendError(f"{url} failed (HTTP {answer.status}){_error_text(answer.content)}")
        return answer

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
