"""A tiny HTTP proxy on 127.0.0.1 for tests: ``CONNECT`` tunnels and absolute-URI forwarding.

It relays to loopback addresses only (anything else is answered 403 and never contacted) and records
every request it was asked (``asked``: method and target), so a test can prove what went through it.
"""

from __future__ import annotations

import http.client
import ipaddress
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

RELAY_TIMEOUT = 10.0  # seconds a tunnel or a forwarded request may sit idle


class ProxyServer:
    """``with ProxyServer() as proxy:`` then ``HTTPS_PROXY=proxy.url``; ``proxy.asked`` lists requests."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def asked(self) -> list[tuple[str, str]]:
        with self._server.lock:
            return list(self._server.asked)

    def __enter__(self) -> ProxyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.lock = threading.Lock()
        self.asked: list[tuple[str, str]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client hanging up mid-tunnel is normal."""


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _record(self) -> None:
        with self.server.lock:
            self.server.asked.append((self.command, self.path))

    def _refuse(self, status: int, reason: str) -> None:
        body = reason.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self) -> None:
        self._record()
        host, _, port = self.path.rpartition(":")
        if not _loopback(host) or not port.isdigit():
            self._refuse(403, "this test proxy relays to loopback only")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=RELAY_TIMEOUT)
        except OSError:
            self._refuse(502, "upstream refused")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        with upstream:
            self._pipe(self.connection, upstream)
        self.close_connection = True

    @staticmethod
    def _pipe(client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while True:
            ready, _, _ = select.select(list(peers), [], [], RELAY_TIMEOUT)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)

    def _forward(self) -> None:
        self._record()
        target = urlsplit(self.path)
        if target.scheme != "http" or not _loopback(target.hostname):
            self._refuse(403, "this test proxy relays to loopback only")
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=RELAY_TIMEOUT)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path or "/", body=body, headers=headers)
            reply = upstream.getresponse()
            content = reply.read()
        except OSError:
            self._refuse(502, "upstream refused")
            return
        finally:
            upstream.close()
        self.send_response(reply.status, reply.reason)
        for name, value in reply.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)
        self.close_connection = True

    do_GET = do_POST = _forward  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""
