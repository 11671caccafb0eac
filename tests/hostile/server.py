"""A hostile unit for tests: a real socket server in front of a simulated PPA that sabotages chosen replies.

Example::

    with SimulatedPpa(backend_key=key) as unit, HostileUnit(unit.http_url, {
        ("GET", "/api/system/version"): huge(),                       # a valid 200 MB reply, streamed
        ("GET", "/api/system/status"): nan("temp"),                   # "temp": NaN as a raw JSON token
    }) as hostile:
        station_fixture_url = hostile.url                             # every other request: forwarded as is
        hostile.wait_fired("GET", "/api/system/version", timeout=5)   # the sabotage happened

Requests are forwarded to the unit byte for byte; the reply is relayed unchanged unless the request's
``(method, path)`` has a ``Sabotage``, which then answers instead (``endless``, ``huge``, ``gzip_bomb``,
``drip``, ``hang``, ``redirect``) or rewrites the unit's real JSON reply (``field``, ``duplicate_key``,
``deep``, ``nan``). It is what a modified or broken unit does to a station (issue 14).

The server protects the machine it runs on, whatever the client does: it listens on 127.0.0.1 only,
streams every large body from small shared blocks (a 200 MB body or a 4 GB gzip expansion is never held
in memory), and every loop ends by itself (a time or size bound, the peer gone) and on ``close()``, which
also closes every open connection: closing the server is how a test ends a sabotage that a station cannot.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

KB, MB, GB = 1024, 1024 * 1024, 1024 * 1024 * 1024
HOST = "127.0.0.1"
HEAD_LIMIT = 64 * KB  # request or reply head
BODY_LIMIT = 16 * MB  # a request body forwarded (firmware images are a few MB)
REPLY_LIMIT = 1 * MB  # a unit's real reply, read whole to rewrite it (real replies are ~1 KB)
POLL = 0.1  # seconds: how often a blocked loop looks at ``close()``
IDLE_LIMIT = 30.0  # seconds without progress before a connection is given up
ENDLESS_LIMIT = 300.0  # seconds an ``endless`` reply runs at most
HOLD_LIMIT = 300.0  # seconds a ``hang`` holds a connection at most
MAX_CONNECTIONS = 64  # open connections at once; more are closed at once
LIFETIME = 900.0  # seconds the accept loop runs at most
BLOCK = 64 * KB  # unit of streaming
BOMB_BLOCK = 1 * MB  # uncompressed bytes per repeated deflate block of a gzip bomb
BOMB_BACKLOG = 16 * KB  # compressed bytes of a gzip bomb left unread by the client before sending more
PROC_TCP = Path("/proc/net/tcp")
PLACEHOLDER = "hostile-placeholder-5d1e"  # a field's value while the reply is rendered around it

KINDS = ("endless", "huge", "gzip_bomb", "drip", "hang", "redirect", "field", "duplicate_key", "deep", "nan")


@dataclass(frozen=True)
class Fill:
    """A JSON string of ``size`` copies of ``char``, streamed (a 20 MB ``hwv`` is never built)."""

    char: str = "A"
    size: int = 20 * MB

    def __post_init__(self) -> None:
        if len(self.char) != 1 or not (0x20 <= ord(self.char) < 0x7F) or self.char in '"\\':
            raise ValueError("Fill takes one printable ASCII character that JSON needs not escape")


@dataclass(frozen=True)
class Sabotage:
    """What the hostile unit does instead of relaying the real reply; build one with the functions below.

    ``times``: how many requests it spoils (None: all); later ones are forwarded unchanged.
    """

    kind: str
    field: str | None = None
    value: object = None
    last: object = None  # duplicate_key: the second value (the first is ``value``)
    interval: float = 2.0  # drip: seconds between bytes
    size: int = 0  # huge: body bytes; gzip_bomb: expanded bytes; deep: nesting depth
    times: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sabotage {self.kind!r}; choose one of {', '.join(KINDS)}")

    def limited(self, times: int) -> Sabotage:
        return replace(self, times=times)


def endless() -> Sabotage:
    """A chunked 200 reply that never ends (until the client leaves, ``close()``, or ENDLESS_LIMIT)."""
    return Sabotage("endless")


def huge(size: int = 200 * MB) -> Sabotage:
    """The real reply padded to exactly ``size`` bytes of valid JSON (a ``pad`` string), streamed."""
    return Sabotage("huge", size=size)


def gzip_bomb(expanded: int = 4 * GB) -> Sabotage:
    """``Content-Encoding: gzip`` of the real reply followed by spaces, ``expanded`` bytes unpacked.

    The compressed body is about ``expanded / 1000`` (4 MB for 4 GB), a valid gzip member (CRC and size).
    """
    return Sabotage("gzip_bomb", size=expanded)


def drip(interval: float = 2.0) -> Sabotage:
    """The real reply, head included, one byte every ``interval`` seconds."""
    return Sabotage("drip", interval=interval)


def hang() -> Sabotage:
    """Read the request, never answer (until the client leaves, ``close()``, or HOLD_LIMIT)."""
    return Sabotage("hang")


def redirect() -> Sabotage:
    """``302`` to the same path on the ``HitCounter`` (another 127.0.0.1 port), which records hits."""
    return Sabotage("redirect")


def field(name: str, value: object) -> Sabotage:
    """The real reply with ``name`` set to ``value`` (JSON-encoded; a ``Fill`` is streamed)."""
    return Sabotage("field", field=name, value=value)


def duplicate_key(name: str, first: object, last: object) -> Sabotage:
    """The real reply with ``name`` twice: ``first`` as the first member, ``last`` as the last."""
    return Sabotage("duplicate_key", field=name, value=first, last=last)


def deep(name: str = "deep", depth: int = 100_000) -> Sabotage:
    """The real reply with ``name`` set to ``depth`` nested arrays."""
    return Sabotage("deep", field=name, size=depth)


def nan(name: str, token: str = "NaN") -> Sabotage:  # noqa: S107 - a JSON token, not a password
    """The real reply with ``name`` set to the raw token ``NaN``, ``Infinity`` or ``-Infinity``."""
    if token not in ("NaN", "Infinity", "-Infinity"):
        raise ValueError("token must be NaN, Infinity or -Infinity")
    return Sabotage("nan", field=name, value=token)


class Gone(Exception):
    """The connection ended: the peer left, it idled past IDLE_LIMIT, or the server is closing."""


class Link:
    """One accepted or outgoing socket, every operation bounded and interrupted by the server's close."""

    def __init__(self, sock: socket.socket, closing: threading.Event) -> None:
        self.sock = sock
        self.closing = closing
        sock.settimeout(POLL)

    def _alive(self, since: float) -> None:
        if self.closing.is_set():
            raise Gone("server closing")
        if time.monotonic() - since > IDLE_LIMIT:
            raise Gone("idle")

    def recv(self, size: int = BLOCK) -> bytes:
        """Some bytes; b"" when the peer closed its side."""
        since = time.monotonic()
        while True:
            self._alive(since)
            try:
                return self.sock.recv(size)
            except TimeoutError:
                continue
            except OSError as exc:
                raise Gone(str(exc)) from None

    def read_head(self) -> tuple[bytes, bytes]:
        """(head up to and including the blank line, bytes read past it)."""
        data = b""
        while b"\r\n\r\n" not in data:
            if len(data) > HEAD_LIMIT:
                raise Gone("head too large")
            chunk = self.recv()
            if not chunk:
                raise Gone("closed before the head ended")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n", rest

    def read_exact(self, size: int, already: bytes = b"") -> bytes:
        parts, have = [already], len(already)
        while have < size:
            chunk = self.recv(min(BLOCK, size - have))
            if not chunk:
                raise Gone("closed mid-body")
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)[:size]

    def read_to_end(self, limit: int) -> bytes:
        parts: list[bytes] = []
        have = 0
        while True:
            chunk = self.recv()
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            have += len(chunk)
            if have > limit:
                raise Gone("reply too large")

    def send(self, data: bytes) -> None:
        view, since = memoryview(data), time.monotonic()
        while view:
            self._alive(since)
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                continue
            except OSError as exc:
                raise Gone(str(exc)) from None
            if sent:
                view, since = view[sent:], time.monotonic()

    def peer_left(self) -> bool:
        """Whether the peer closed its side (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            return bool(readable) and self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def peer_backlog(self) -> int | None:
        """Bytes the peer received but has not read yet (Linux ``/proc/net/tcp``); None if unknown.

        Both ends are on this machine, so the peer's socket is in the table: its local address is our
        peer's and its remote address ours.
        """
        try:
            mine, theirs = self.sock.getsockname(), self.sock.getpeername()
            table = PROC_TCP.read_text().splitlines()[1:]
        except OSError:
            return None
        wanted = (_proc_address(theirs), _proc_address(mine))
        for line in table:
            columns = line.split()
            if len(columns) > 4 and (columns[1], columns[2]) == wanted:
                return int(columns[4].split(":")[1], 16)
        return None

    def drained(self, backlog: int) -> None:
        """Wait until the peer has fewer than ``backlog`` unread bytes (or that cannot be known).

        A gzip bomb expands ~1000:1: what sits unread in the client's socket buffer is what a client
        that inflates everything will still inflate after the test closes the server. Sending only
        while the client keeps up keeps that small, so a failing station cannot exhaust the machine.
        """
        since = time.monotonic()
        while (waiting := self.peer_backlog()) is not None and waiting >= backlog:
            self._alive(since)
            if self.closing.wait(0.002):
                raise Gone("server closing")

    def wait(self, seconds: float) -> None:
        """Sleep, but end at once (Gone) on close() or when the peer left."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.closing.wait(min(left, POLL)):
                raise Gone("server closing")
            if self.peer_left():
                raise Gone("peer left")


class SocketServer:
    """A threaded TCP server on 127.0.0.1: ``handle`` per connection; ``close`` ends everything."""

    def __init__(self) -> None:
        self.closing = threading.Event()
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(POLL)
        self._port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._acceptor = threading.Thread(
            target=self._accept, name=f"{type(self).__name__}-accept", daemon=True
        )

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def threads(self) -> int:
        """Connection threads still running (0 soon after ``close``)."""
        with self._lock:
            return sum(thread.is_alive() for thread in self._threads)

    def close(self, wait: float = 5.0) -> None:
        """Stop accepting, close every connection, and wait (up to ``wait`` s) for every thread to end."""
        self.closing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets, threads = list(self._open), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + wait
        for thread in [self._acceptor, *threads]:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(max(deadline - time.monotonic(), 0.0))

    def _accept(self) -> None:
        ends = time.monotonic() + LIFETIME
        while not self.closing.is_set() and time.monotonic() < ends:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            with self._lock:
                self._threads = {thread for thread in self._threads if thread.is_alive()}
                if len(self._open) >= MAX_CONNECTIONS:
                    sock.close()
                    continue
                self._open.add(sock)
                thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
                self._threads.add(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self.handle(Link(sock, self.closing))
        except Gone:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def handle(self, client: Link) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: Mapping[str, str]  # lower-case names
    raw: bytes  # head and body exactly as received

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def read_request(client: Link) -> Request:
    head, rest = client.read_head()
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    if length > BODY_LIMIT or "transfer-encoding" in headers:
        raise Gone("request body too large or chunked")
    return Request(method, target, headers, head + client.read_exact(length, rest))


@dataclass(frozen=True)
class Reply:
    """A reply of the real unit, read whole (it is small): status line, headers, body."""

    status_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status(self) -> int:
        parts = self.status_line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    @classmethod
    def parse(cls, raw: bytes) -> Reply:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = tuple(
            (name.strip(), value.strip())
            for name, colon, value in (line.partition(":") for line in lines[1:])
            if colon
        )
        length = next((value for name, value in headers if name.lower() == "content-length"), None)
        return cls(lines[0], headers, body[: int(length)] if length and length.isdigit() else body)

    def json_object(self) -> dict[str, Any] | None:
        if self.status != 200:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def head(self, extra: Mapping[str, str]) -> bytes:
        """This reply's status line and headers, framing headers replaced by ``extra``."""
        framing = {"content-length", "transfer-encoding", "content-encoding", "connection"}
        framing |= {name.lower() for name in extra}
        lines = [self.status_line]
        lines += [f"{name}: {value}" for name, value in self.headers if name.lower() not in framing]
        lines += [f"{name}: {value}" for name, value in {**extra, "Connection": "close"}.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HitCounter(SocketServer):
    """The redirect target: records every request line and answers a plausible 200 ``{}``."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: deque[tuple[str, str]] = deque(maxlen=1000)

    def handle(self, client: Link) -> None:
        request = read_request(client)
        with self._lock:
            self.hits.append((request.method, request.target))
        client.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n")
        client.send(b"Connection: close\r\n\r\n{}")


class HostileUnit(SocketServer):
    """The proxy in front of a unit at ``upstream``; ``rules`` sabotage chosen ``(method, path)`` pairs."""

    def __init__(self, upstream: str, rules: Mapping[tuple[str, str], Sabotage] | None = None) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname != HOST or parts.port is None:
            raise ValueError("the upstream unit must be http://127.0.0.1:<port>")
        self.upstream = (HOST, parts.port)
        self.rules = dict(rules or {})
        self.counter = HitCounter()
        self.requests: deque[tuple[str, str]] = deque(maxlen=1000)  # every request, newest last
        self._fired: Counter[tuple[str, str]] = Counter()
        self._changed = threading.Condition(self._lock)
        self._bomb: _Bomb | None = None

    def start(self) -> Self:
        self.counter.start()
        return super().start()

    def close(self, wait: float = 5.0) -> None:
        super().close(wait)
        self.counter.close(wait)

    def fired(self, method: str, path: str) -> int:
        """How many replies to ``(method, path)`` were sabotaged (a sabotage counts when it starts)."""
        with self._lock:
            return self._fired[(method, path)]

    def wait_fired(self, method: str, path: str, count: int = 1, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._fired[(method, path)] >= count, timeout)

    # --- one connection -----------------------------------------------------------------------------

    def handle(self, client: Link) -> None:
        request = read_request(client)
        key = (request.method, request.path)
        with self._lock:
            self.requests.append(key)
            rule = self.rules.get(key)
            if rule is not None and rule.times is not None and self._fired[key] >= rule.times:
                rule = None
        if rule is None:
            self._forward(client, request)
            return
        if rule.kind in ("endless", "hang", "redirect"):
            self._note(key)
            {"endless": self._endless, "hang": self._hang, "redirect": self._redirect}[rule.kind](
                client, request
            )
            return
        raw = self._upstream(request, lambda unit: unit.read_to_end(REPLY_LIMIT))
        reply = Reply.parse(raw)
        obj = reply.json_object()
        if rule.kind == "drip":
            self._note(key)
            self._drip(client, raw, rule.interval)
        elif obj is None:
            client.send(raw)  # an error or a non-JSON reply: nothing to rewrite, pass it on
        else:
            self._note(key)
            self._send_rewritten(client, reply, obj, rule)

    def _note(self, key: tuple[str, str]) -> None:
        with self._changed:
            self._fired[key] += 1
            self._changed.notify_all()

    def _upstream(self, request: Request, use: Any) -> Any:
        try:
            sock = socket.create_connection(self.upstream, timeout=5)
        except OSError as exc:
            raise Gone(f"unit unreachable: {exc}") from None
        unit = Link(sock, self.closing)
        try:
            unit.send(request.raw)
            return use(unit)
        finally:
            sock.close()

    def _forward(self, client: Link, request: Request) -> None:
        """Relay the unit's reply byte for byte, as it comes, until the unit closes."""

        def relay(unit: Link) -> None:
            while chunk := unit.recv():
                client.send(chunk)

        self._upstream(request, relay)

    # --- sabotage without the unit --------------------------------------------------------------------

    def _endless(self, client: Link, request: Request) -> None:
        client.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        client.send(_chunk(b'{"hwv": "'))
        block, ends = _chunk(b"a" * BLOCK), time.monotonic() + ENDLESS_LIMIT
        while time.monotonic() < ends:
            client.send(block)
        # ENDLESS_LIMIT reached: stop without the last chunk, so the reply still never "ends"

    def _hang(self, client: Link, request: Request) -> None:
        client.wait(HOLD_LIMIT)

    def _redirect(self, client: Link, request: Request) -> None:
        location = f"{self.counter.url}{request.target}"
        head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        client.send(head.encode())

    # --- sabotage of the real reply -----------------------------------------------------------------

    def _drip(self, client: Link, raw: bytes, interval: float) -> None:
        for index in range(len(raw)):
            client.wait(interval)
            client.send(raw[index : index + 1])

    def _send_rewritten(self, client: Link, reply: Reply, obj: dict[str, Any], rule: Sabotage) -> None:
        headers = {"Content-Type": "application/json"}
        if rule.kind == "gzip_bomb":
            bomb = self._gzip_bomb()
            size, pieces = bomb.stream(json.dumps(obj).encode(), rule.size)
            headers["Content-Encoding"] = "gzip"
        else:
            size, pieces = _rewritten(obj, rule)
        client.send(reply.head({**headers, "Content-Length": str(size)}))
        for piece in pieces:
            if rule.kind == "gzip_bomb":
                client.drained(BOMB_BACKLOG)
            client.send(piece)

    def _gzip_bomb(self) -> _Bomb:
        with self._lock:
            if self._bomb is None:
                self._bomb = _Bomb()
            return self._bomb


def _proc_address(address: tuple[str, int]) -> str:
    """``127.0.0.1:8080`` as ``/proc/net/tcp`` writes it: ``0100007F:1F90`` (address little-endian)."""
    host, port = address[0], address[1]
    return f"{struct.unpack('<I', socket.inet_aton(host))[0]:08X}:{port:04X}"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _around(obj: dict[str, Any], name: str) -> tuple[bytes, bytes]:
    """``obj`` as JSON with ``name``'s value left out: the text before and after where it goes."""
    text = json.dumps({**obj, name: PLACEHOLDER}).encode()
    before, _, after = text.partition(json.dumps(PLACEHOLDER).encode())
    return before, after


def _repeat(byte: bytes, count: int) -> Iterator[bytes]:
    block = byte * BLOCK
    for _ in range(count // BLOCK):
        yield block
    if count % BLOCK:
        yield byte * (count % BLOCK)


def _with_value(
    obj: dict[str, Any], name: str, size: int, value: Iterator[bytes]
) -> tuple[int, Iterator[bytes]]:
    before, after = _around(obj, name)

    def pieces() -> Iterator[bytes]:
        yield before
        yield from value
        yield after

    return len(before) + size + len(after), pieces()


def _rewritten(obj: dict[str, Any], rule: Sabotage) -> tuple[int, Iterator[bytes]]:
    """(Content-Length, body pieces) of the real reply ``obj`` rewritten as ``rule`` says."""
    if rule.kind == "huge":
        before, after = _around(obj, "pad")
        pad = rule.size - len(before) - len(after) - 2
        if pad < 0:
            raise ValueError("huge size is smaller than the real reply")
        return _with_value(obj, "pad", pad + 2, iter([b'"', *_repeat(b"a", pad), b'"']))
    assert rule.field is not None
    if rule.kind == "field" and isinstance(rule.value, Fill):
        fill = rule.value
        return _with_value(
            obj, rule.field, fill.size + 2, iter([b'"', *_repeat(fill.char.encode(), fill.size), b'"'])
        )
    if rule.kind == "field":
        raw = json.dumps(rule.value).encode()
        return _with_value(obj, rule.field, len(raw), iter([raw]))
    if rule.kind == "nan":
        raw = str(rule.value).encode()
        return _with_value(obj, rule.field, len(raw), iter([raw]))
    if rule.kind == "deep":
        raw = b"[" * rule.size + b"]" * rule.size
        return _with_value(obj, rule.field, len(raw), iter([raw]))
    if rule.kind == "duplicate_key":
        rest = {key: value for key, value in obj.items() if key != rule.field}
        name = json.dumps(rule.field)
        middle = json.dumps(rest)[1:-1]
        members = [
            f"{name}: {json.dumps(rule.value)}",
            *([middle] if middle else []),
            f"{name}: {json.dumps(rule.last)}",
        ]
        body = ("{" + ", ".join(members) + "}").encode()
        return len(body), iter([body])
    raise ValueError(f"{rule.kind} does not rewrite a reply")


class _Bomb:
    """A gzip member made of one deflate block repeated: built once, streamed with its real CRC and size.

    After a full flush the compressor holds no history, so compressing the same block again gives the same
    bytes: one 1 MB block of spaces compresses to ~1 KB and is sent as often as the expansion needs.
    """

    HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no time

    def __init__(self) -> None:
        spaces = b" " * BOMB_BLOCK
        probe = zlib.compressobj(9, zlib.DEFLATED, -15)
        probe.compress(b"{}")
        probe.flush(zlib.Z_FULL_FLUSH)
        first = probe.compress(spaces) + probe.flush(zlib.Z_FULL_FLUSH)
        second = probe.compress(spaces) + probe.flush(zlib.Z_FULL_FLUSH)
        if first != second:
            raise RuntimeError("zlib did not repeat a fully flushed block byte for byte")
        self.block = first
        self.block_crc = zlib.crc32(spaces)

    def stream(self, prefix: bytes, expanded: int) -> tuple[int, Iterator[bytes]]:
        """(compressed size, pieces) of ``prefix`` followed by spaces up to ``expanded`` bytes."""
        blocks, tail = divmod(max(expanded - len(prefix), 0), BOMB_BLOCK)
        head_z = zlib.compressobj(9, zlib.DEFLATED, -15)
        opening = head_z.compress(prefix) + head_z.flush(zlib.Z_FULL_FLUSH)
        end_z = zlib.compressobj(9, zlib.DEFLATED, -15)
        closing = end_z.compress(b" " * tail) + end_z.flush(zlib.Z_FINISH)
        size = len(self.HEADER) + len(opening) + blocks * len(self.block) + len(closing) + 8
        spaces = b" " * BOMB_BLOCK

        def pieces() -> Iterator[bytes]:
            yield self.HEADER + opening
            crc = zlib.crc32(prefix)
            batch = max(BOMB_BACKLOG // max(len(self.block), 1), 1)  # ~16 KB of compressed blocks per send
            sent = 0
            while sent < blocks:
                count = min(batch, blocks - sent)
                for _ in range(count):
                    crc = zlib.crc32(spaces, crc)
                yield self.block * count
                sent += count
            crc = zlib.crc32(b" " * tail, crc)
            yield closing + struct.pack(
                "<II", crc & 0xFFFFFFFF, (len(prefix) + blocks * BOMB_BLOCK + tail) & 0xFFFFFFFF
            )

        return size, pieces()
