"""``RemoteBackend``: the factory authority as an HTTPS service with Encedo-compatible endpoints.

>>> backend = RemoteBackend("https://factory.example/")     # units have the check-in key built in
>>> backend.checkin_public_key()
Traceback (most recent call last):
station.core.errors.BackendError: https://factory.example: the remote backend's check-in public key is not ...
"""

from __future__ import annotations

from typing import Any

import requests
from cryptography import x509

from station.core.codec import b64decode
from station.core.errors import BackendError, BackendRefused, ProtocolError
from station.core.strictjson import JsonRefused, strict_loads
from station.core.text import printable
from station.factory.ca import certificate_matches_key

_ERROR_TEXT_LIMIT = 200


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
            response = self._send("GET", "/ca", None)
            try:
                self._ca = x509.load_pem_x509_certificate(response.content)
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
        response = self._send(method, path, body)
        try:
            reply = strict_loads(response.content)
        except JsonRefused as exc:
            status = response.status_code
            raise BackendError(f"{self.url}{path}: reply {exc.problem} (HTTP {status})") from None
        if not isinstance(reply, dict):
            raise BackendError(f"{self.url}{path}: reply is not a JSON object")
        return reply

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> requests.Response:
        url = self.url + path
        sender = self._session if self._session is not None else requests
        try:
            response = sender.request(
                method,
                url,
                json=body,
                headers={"Connection": "close"},
                timeout=self._timeout,
                verify=self._verify,
            )
        except requests.Timeout:
            raise BackendError(f"{url}: no reply within {self._timeout} s") from None
        except requests.RequestException as exc:
            raise BackendError(f"{url}: {type(exc).__name__}") from None
        if 400 <= response.status_code < 500:
            raise BackendRefused(f"{url} refused (HTTP {response.status_code}){_error_text(response)}")
        if response.status_code != 200:
            raise BackendError(f"{url} failed (HTTP {response.status_code}){_error_text(response)}")
        return response


def _string_field(reply: dict[str, Any], name: str, url: str) -> str:
    value = reply.get(name)
    if not isinstance(value, str):
        raise BackendError(f"{url}: reply field {name!r} is missing or not a string")
    return value


def _error_text(response: requests.Response) -> str:
    """``: <reason>`` from a JSON ``{"error": ...}`` body, if the service gave one (escaped, bounded)."""
    try:
        reason = strict_loads(response.content).get("error")
    except (ValueError, AttributeError):
        return ""
    return f": {printable(reason, _ERROR_TEXT_LIMIT)}" if isinstance(reason, str) else ""
