"""A unit that goes quiet on chosen requests: a raw-socket proxy in front of a simulated unit on 127.0.0.1.

Example::

    with QuietUnit(unit.http_url, hold="GET /api/system/version", mode="drip") as quiet:
        ...                          # a fixture at quiet.url: every other request reaches the unit
        quiet.held.wait(10)          # the station's request is being held now
        quiet.requests_after(t)      # what reached the proxy since monotonic time t

``silent`` accepts the held request and never answers (the connection stays open until the client
closes it or the proxy stops); ``drip`` answers one byte of a status line and headers that never end,
every ``drip_every`` seconds, so no socket read ever times out. The held request is not passed on: the
unit never sees it. ``times`` limits how many requests are held (None: all that match).
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

_HEAD_LIMIT = 64 * 1024


class QuietUnit:
    def __init__(
        self,
        upstream: str | None,
        hold: str,
        *,
        mode: str = "silent",
        times: int | None = None,
        drip_every: float = 0.5,
    ) -> None:
        if mode not in ("silent", "drip"):
            raise ValueError(f"mode {mode!r}: silent or drip")
        self.hold_method, _, self.hold_path = hold.partition(" ")
        self.mode, self.times, self.drip_every = mode, times, drip_every
        parts = urlsplit(upstream) if upstream else None
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80) if parts else None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self.held = threading.Event()  # set once a request is being held
        self.seen: list[tuple[float, str, str]] = []  # (monotonic time, method, path) of every request

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> QuietUnit:
        threading.Thread(target=self._accept, name="quiet-unit", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def __enter__(self) -> QuietUnit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_after(self, since: float) -> list[tuple[str, str]]:
        with self._lock:
            return [(method, path) for at, method, path in self.seen if at > since]

    # --- the proxy -------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            request = _read_request(connection)
            if request is None:
                return
            method, path = request[0].split(b" ")[0].decode(), request[0].split(b" ")[1].decode()
            with self._lock:
                self.seen.append((time.monotonic(), method, path))
            if self._holds(method, path):
                self.held.set()
                self._hold(connection)
            elif self._upstream is not None:
                _relay(request[1], self._upstream, connection)
        except OSError:
            pass  # the client went away: normal for a held request the station gave up on
        finally:
            connection.close()

    def _holds(self, method: str, path: str) -> bool:
        with self._lock:
            if path.split("?", maxsplit=1)[0] != self.hold_path or method != self.hold_method:
                return False
            if self.times is not None:
                if self.times <= 0:
                    return False
                self.times -= 1
            return True

    def _hold(self, connection: socket.socket) -> None:
        if self.mode == "silent":
            self._stop.wait()
            return
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while not self._stop.wait(self.drip_every):
            connection.sendall(b"a")  # a header line that never ends; BrokenPipe once the client is gone


def _read_request(connection: socket.socket) -> tuple[bytes, bytes] | None:
    """(request line, the whole request as sent), or None if the client closed first."""
    connection.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk or len(data) > _HEAD_LIMIT:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    connection.settimeout(None)
    return head.split(b"\r\n")[0], head + b"\r\n\r\n" + body


def _relay(request: bytes, upstream: tuple[str, int], connection: socket.socket) -> None:
    """Pass the request to the unit and its whole reply back (the unit closes after every reply)."""
    with socket.create_connection(upstream, timeout=30) as unit:
        unit.sendall(request)
        while chunk := unit.recv(65536):
            connection.sendall(chunk)
