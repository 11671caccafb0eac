"""``EdgeServer``: a raw socket server on 127.0.0.1 that answers each connection as a test says.

Example::

    with EdgeServer(endless_chunked) as server:      # or reply(200, b"{}"), drip_body(...), hang, ...
        Transport(server.url).request("GET", "/api/system/status", timeout=2)
        server.hits                                  # the request heads it received, in order

Each connection gets the request head read (up to the blank line; not with ``read_head=False``, for a
raw protocol such as a printer's), then ``behaviour(connection, server)``
runs in a thread of its own; a behaviour that streams or waits stops when the server closes. Replies are
written byte for byte, so a test can send what no HTTP library would: endless chunks, a drip, gzip.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

import pytest

Behaviour = Callable[[socket.socket, "EdgeServer"], None]


class EdgeServer:
    def __init__(self, behaviour: Behaviour, *, read_head: bool = True) -> None:
        self.behaviour = behaviour
        self.read_head = read_head  # False: the behaviour starts as soon as a connection is accepted
        self.hits: list[bytes] = []
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="edge-server", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EdgeServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.stopped.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.settimeout(5)
            head = b""
            while self.read_head and b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                head += chunk
            head += _rest_of_body(connection, head)  # unread request bytes would make close() a reset
            with self._lock:
                self.hits.append(head)
            connection.settimeout(None)
            self.behaviour(connection, self)
        with contextlib.suppress(OSError):
            connection.close()


def _rest_of_body(connection: socket.socket, head: bytes) -> bytes:
    """The request body still unread after its head (by ``Content-Length``), read so that closing the
    connection sends FIN, not RST: a reset would discard the reply in flight to the client."""
    top, _, seen = head.partition(b"\r\n\r\n")
    length = 0
    for line in top.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    rest = b""
    while len(seen) + len(rest) < length:
        chunk = connection.recv(min(65536, length - len(seen) - len(rest)))
        if not chunk:
            break
        rest += chunk
    return rest


def reply(status: int, body: bytes = b"{}", **headers: str) -> Behaviour:
    """A whole reply at once (``Content-Length`` unless a header says otherwise), then close."""

    def answer(connection: socket.socket, server: EdgeServer) -> None:
        fields = {"Content-Length": str(len(body)), **{k.replace("_", "-"): v for k, v in headers.items()}}
        lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in fields.items() if v), "", ""]
        connection.sendall("\r\n".join(lines).encode())
        connection.sendall(body)  # not joined to the head: a test measuring memory must not count a copy

    return answer


def until_closed(body: bytes) -> Behaviour:
    """A 200 whose body has no length: it ends when the server closes the connection."""

    def answer(connection: socket.socket, server: EdgeServer) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        connection.sendall(body)

    return answer


def endless_chunked(connection: socket.socket, server: EdgeServer) -> None:
    """A chunked 200 that never ends: 64 KiB chunks as fast as the client reads them."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while not server.stopped.is_set():
        connection.sendall(chunk)


def drip(head: bytes, body: bytes, every: float) -> Behaviour:
    """``head`` at once, then ``body`` one byte every ``every`` seconds (a unit that is never silent)."""

    def answer(connection: socket.socket, server: EdgeServer) -> None:
        connection.sendall(head)
        for byte in body:
            if server.stopped.wait(every):
                return
            connection.sendall(bytes([byte]))

    return answer


def hang(connection: socket.socket, server: EdgeServer) -> None:
    """Reads the request, never answers."""
    server.stopped.wait()


def slowly(seconds: float, then: Behaviour) -> Behaviour:
    def answer(connection: socket.socket, server: EdgeServer) -> None:
        time.sleep(seconds)
        then(connection, server)

    return answer


def raw(*pieces: bytes) -> Behaviour:
    """A behaviour that sends ``pieces`` as they are (each its own ``sendall``), whatever was asked."""

    def answer(connection: socket.socket, server: EdgeServer) -> None:
        for piece in pieces:
            connection.sendall(piece)

    return answer


@pytest.fixture
def edge() -> Iterator[list[EdgeServer]]:
    """A list a test puts its edge servers in; each is closed after the test."""
    servers: list[EdgeServer] = []
    yield servers
    for server in servers:
        server.close()
