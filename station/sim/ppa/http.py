"""HTTP(S) plumbing of the simulated unit: requests in, responses out, one connection per request.

>>> reply({"inited": False}).body               # compact JSON, as the firmware writes it
b'{"inited":false}'
>>> empty(418, reason="").status, empty(418, reason="").body         # errors: an empty body
(418, b'')
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

JSON = "application/json"
SIMULATED_HEADER = ("X-Simulated-Unit", "1")  # on every reply: a real unit never sends it (docs/simulator.md)


@dataclass(frozen=True)
class Request:
    """One parsed request. ``headers`` keys are lowercase; ``json`` is set for JSON bodies."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    scheme: str
    json: dict[str, Any] | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    """A reply. ``drop`` closes the connection without answering; ``after`` runs once it was sent;
    ``stall`` holds the finished reply that many seconds (outside the device lock) before sending it;
    ``hold`` keeps the connection open, unanswered, until the event is set, then drops it (a hung unit)."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    after: Callable[[], None] | None = None
    stall: float = 0.0
    hold: threading.Event | None = None


def reply(payload: Mapping[str, Any], status: int = 200) -> Response:
    """A JSON reply (compact, as the firmware writes it)."""
    return Response(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"))


def empty(status: int, reason: str | None = None) -> Response:
    """An empty-bodied reply: every error, and the successes the reference shows as empty."""
    return Response(status, reason=reason)


def dropped() -> Response:
    return Response(0, drop=True)


class Device(Protocol):
    """What the listener needs from a device."""

    def precheck(self, method: str, path: str, headers: Mapping[str, str]) -> Response | None: ...

    def handle(self, request: Request) -> Response: ...


class DeviceListener(ThreadingHTTPServer):
    """One listening socket (HTTP or HTTPS) of one simulated unit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        device: Device,
        scheme: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.device = device
        self.scheme = scheme
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        if self.tls is not None:
            # Handshake in the handler thread, not here: a slow client must not stall the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-request are normal for a device; stay quiet about them."""

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DeviceListener
    timeout = 15  # a client that stalls mid-request is dropped, as the firmware's request timeout does

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise ConnectionAbortedError from None

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True

    def handle_expect_100(self) -> bool:
        early = self._precheck()
        if early is not None:
            self._send(early)
            return False
        return super().handle_expect_100()

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _precheck(self) -> Response | None:
        return self.server.device.precheck(self.command, self.path.split("?", 1)[0], self._headers())

    def _serve(self) -> None:
        early = self._precheck()
        if early is not None:
            self._send(early)
            return
        body = self._read_body()
        path, _, query = self.path.partition("?")
        request = Request(self.command, path, query, self._headers(), body, self.server.scheme)
        self._send(self.server.device.handle(request))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        chunks, remaining = [], length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break  # stream ended early: the device sees a short body
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _send(self, response: Response) -> None:
        self.close_connection = True
        try:
            if response.hold is not None:
                response.hold.wait()  # accepted, never answered: the client waits out its own timeout
                self._abort()
                return
            if response.stall:
                time.sleep(response.stall)
            if response.drop:
                self._abort()
                return
            self._write(response)
        finally:
            if response.after is not None:
                response.after()  # the unit reboots whether or not the client stayed to hear the reply

    def _write(self, response: Response) -> None:
        self.send_response(response.status, response.reason)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header(*SIMULATED_HEADER)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()

    def _abort(self) -> None:
        """Close without a reply, with RST so the client sees a dropped connection at once."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    # The device speaks GET, POST, DELETE and OPTIONS; anything else still reaches the router (404).
    do_GET = do_POST = do_DELETE = do_OPTIONS = do_PUT = do_PATCH = do_HEAD = _serve  # noqa: N815 - http.server names

    def send_response(self, code: int, message: str | None = None) -> None:
        # No Server/Date headers: the firmware sends neither.
        self.send_response_only(code, message)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; the device keeps its own audit log."""
