"""A stand-in for Encedo's cloud: a ``LocalBackend`` over HTTP(S) on 127.0.0.1; ``like_encedo``: no ``/ca``.

>>> import pathlib, tempfile; from station.factory.keys.keystore import FileKeyStore
>>> from station.factory.remote import RemoteBackend
>>> with tempfile.TemporaryDirectory() as folder, CloudBackendServer(
...     LocalBackend(FileKeyStore(pathlib.Path(folder)), name="line1"), like_encedo=False) as cloud:
...     RemoteBackend(cloud.url).ca_certificate().subject.rfc4514_string()        # GET /ca
'CN=PPA Factory CA line1'
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization

from station.core.codec import b64encode
from station.core.errors import BackendError, BackendRefused
from station.factory.backend import LocalBackend

BODY_LIMIT = 64 * 1024
SHUTDOWN_POLL = 0.1  # seconds; how quickly serve_forever notices stop()


class CloudBackendServer:
    """HTTP server in a daemon thread around one backend.

    ``like_encedo`` gives it the shape of Encedo's service (reference §13): only ``POST /checkin`` and
    ``POST /provisioning``; ``GET /ca`` is a path it lacks (404 with a web page, not JSON), and a check-in
    ``action`` is ignored (Encedo's service decides it). ``tls`` serves HTTPS with that context.
    """

    def __init__(
        self,
        backend: LocalBackend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        like_encedo: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.backend = backend
        self._server = _Server((host, port), _Handler)
        self._server.backend = backend
        self._server.like_encedo = like_encedo
        self._server.tls = tls
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        scheme = "https" if self._server.tls is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    @property
    def requests_seen(self) -> list[tuple[str, str]]:
        """(method, path) of every request served, in order (what a test asks of the service)."""
        with self._server.lock:
            return list(self._server.seen)

    def start(self) -> CloudBackendServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SHUTDOWN_POLL,), name="cloud-backend", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> CloudBackendServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: LocalBackend
    like_encedo: bool
    tls: ssl.SSLContext | None

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        if self.tls is not None:  # the handshake in the handler's thread: a slow client stalls no one
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hangs up (or fails the TLS handshake) is the client's test to judge."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            with self.server.lock:
                self.server.seen.append((self.command, self.path))
        return parsed

    def do_GET(self) -> None:
        if self.path != "/ca" or self.server.like_encedo:
            self._not_found()
            return
        pem = self.server.backend.ca_certificate().public_bytes(serialization.Encoding.PEM)
        self._send_bytes(200, pem, "application/x-pem-file")

    def do_POST(self) -> None:
        body = self._json_body()
        if body is None:
            self._send(400, {"error": "body must be a JSON object"})
            return
        routes = {"/checkin": self._checkin, "/provisioning": self._provisioning}
        handler = routes.get(self.path)
        if handler is None:
            self._not_found()
            return
        try:
            self._send(200, handler(body))
        except _BadRequest as exc:
            self._send(400, {"error": str(exc)})
        except BackendRefused as exc:
            self._send(403, {"error": str(exc)})
        except BackendError as exc:
            self._send(500, {"error": str(exc)})

    def _checkin(self, body: dict[str, Any]) -> dict[str, Any]:
        check, action = _field(body, "check"), body.get("action", "OK")
        if self.server.like_encedo:
            action = "OK"  # Encedo's service decides a unit's action itself; it takes none from us
        if action not in ("OK", "W", "L", "R", "B", "U"):
            raise _BadRequest("action must be one of OK, W, L, R, B, U")
        return {"checked": self.server.backend.checkin(check, action=action)}

    def _provisioning(self, body: dict[str, Any]) -> dict[str, Any]:
        csr, key, genuine = (_field(body, name) for name in ("csr", "key", "genuine"))
        der = self.server.backend.issue_device_certificate(csr, key, genuine)
        return {"crt": b64encode(der), "genuine": genuine}

    def _json_body(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if not 0 < length <= BODY_LIMIT:
            return None
        try:
            value = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def _not_found(self) -> None:
        if self.server.like_encedo:  # a web server's page, not the service's JSON
            self._send_bytes(404, b"<html><body>404 Not Found</body></html>", "text/html")
        else:
            self._send(404, {"error": f"no such path {self.path}"})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        self._send_bytes(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read results, not access logs."""


class _BadRequest(Exception):
    """A request field is missing or has the wrong type (answered 400)."""


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise _BadRequest(f"field {name!r} is missing or not a string")
    return value
