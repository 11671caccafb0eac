"""A stand-in for Encedo's cloud: serves a ``LocalBackend`` over HTTP so ``RemoteBackend`` has a peer.

>>> import pathlib, tempfile; from station.factory.keys.keystore import FileKeyStore
>>> from station.factory.remote import RemoteBackend
>>> with tempfile.TemporaryDirectory() as folder:                # plain HTTP on 127.0.0.1: tests and demos
...     with CloudBackendServer(LocalBackend(FileKeyStore(pathlib.Path(folder)), name="line1")) as cloud:
...         RemoteBackend(cloud.url).ca_certificate().subject.rfc4514_string()        # GET /ca
'CN=PPA Factory CA line1'
"""

from __future__ import annotations

import json
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
    """HTTP server in a daemon thread around one backend."""

    def __init__(self, backend: LocalBackend, host: str = "127.0.0.1", port: int = 0) -> None:
        self.backend = backend
        self._server = _Server((host, port), _Handler)
        self._server.backend = backend
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path != "/ca":
            self._send(404, {"error": f"no such path {self.path}"})
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
            self._send(404, {"error": f"no such path {self.path}"})
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
