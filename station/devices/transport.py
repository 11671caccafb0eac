"""The bounded HTTP edge to units and services: one connection per request, a size cap and a deadline.

>>> unit = Transport("http://127.0.0.1:9")                   # nothing listens on the discard port
>>> with call_deadline(time.monotonic() + 5):                # bounds every request made inside
...     unit.request("GET", "/api/system/status", timeout=2.0, cap=DEFAULT_CAP)
Traceback (most recent call last):
station.core.errors.DeviceUnreachable: GET /api/system/status: connection refused (no unit listening)
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import urllib3.exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from station.core.errors import DeviceError, DeviceProtocolError, DeviceTimeout, DeviceUnreachable
from station.devices import plainhttp
from station.devices.http import describe_failure
from station.devices.pacing import Pacer

DEFAULT_CAP = 1 << 20  # bytes of one reply, unless the caller knows a kind of reply is legitimately larger
CHUNK = 64 * 1024  # read size: the most a reply can hold past its cap before it is refused
SocketOption = tuple[int, int, int | bytes]  # (level, option, value), as for socket.setsockopt
_FINGERPRINT = re.compile(r"sha256:((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})", re.IGNORECASE)
_TRANSFER_CODINGS = ("", "chunked", "identity")


# --- where a unit or service is, and how it is trusted -----------------------------------------------------


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as the address of a unit or service, in words; None if it is fine.

    Only ``http://`` and ``https://`` to a host, with neither credentials (``user:pass@``), a query nor
    a fragment: nothing else is ever meant, and anything else would wait forever or leak a password.
    """
    if not url.isascii() or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        return "must be ASCII without spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not url.startswith(f"{parts.scheme}://"):
        return "must start with http:// or https://"
    if "@" in parts.netloc:
        return "must not carry credentials (user:password@)"
    if "?" in url or "#" in url:
        return "must not have a query (?...) or a fragment (#...)"
    if not parts.hostname:
        return "has no host"
    try:
        parts.port  # noqa: B018 - the property raises for a port that is not a number in range
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None


def parse_fingerprint(text: str) -> str:
    """``sha256:<64 hex digits>`` (colons between bytes allowed, as ``openssl x509 -fingerprint`` prints
    them) → the 64 lowercase hex digits; ValueError otherwise."""
    match = _FINGERPRINT.fullmatch(text.strip())
    if match is None:
        raise ValueError("must be sha256: followed by the certificate's 64 hex digits (its SHA-256)")
    return match.group(1).replace(":", "").lower()


@dataclass(frozen=True)
class TlsPin:
    """How an ``https://`` unit or service is trusted: exactly one of its certificate's SHA-256
    (``fingerprint``, 64 hex digits) or a CA file that signed it (``ca_file``, PEM). Host names are never
    checked: a unit answers at an address, and a public CA bundle would never vouch for it."""

    fingerprint: str | None = None
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if (self.fingerprint is None) == (self.ca_file is None):
            raise ValueError("a TLS pin is a certificate fingerprint or a CA file, exactly one of them")
        if self.fingerprint is not None:
            object.__setattr__(self, "fingerprint", parse_fingerprint(f"sha256:{self.fingerprint}"))

    @classmethod
    def of(cls, fingerprint: str | None, ca_file: str | None) -> TlsPin | None:
        """The pin a fixture states (``tls_fingerprint = "sha256:..."`` or ``tls_ca``), None for neither."""
        if fingerprint is None and ca_file is None:
            return None
        return cls(parse_fingerprint(fingerprint) if fingerprint is not None else None, ca_file)

    @cached_property
    def context(self) -> ssl.SSLContext:
        """Built once per pin (a CA file is read here: ``ssl.SSLError`` or ``OSError`` if it is unusable)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = False
        if self.ca_file is None:
            context.verify_mode = ssl.CERT_NONE  # the fingerprint is compared once the handshake is done
        else:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=self.ca_file)
        return context

    def connection_options(self) -> dict[str, Any]:
        if self.fingerprint is not None:
            return {"ssl_context": self.context, "assert_fingerprint": self.fingerprint}
        return {"ssl_context": self.context, "assert_hostname": False}


@dataclass(frozen=True)
class Reply:
    """A whole reply, read within its cap: status, headers (case-insensitive) and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


# --- deadlines: per call, per request, and the station's stop ----------------------------------------------


class Interrupted(Exception):
    """A request stopped from outside: its deadline passed, or ``abort_all`` (``aborted``) with ``reason``."""

    def __init__(self, reason: str, *, aborted: bool) -> None:
        super().__init__(reason)
        self.reason, self.aborted = reason, aborted


class _Watch:
    """One request's deadline and the sockets it opened (duplicates: shutting one down ends the
    connection, and closing it here never closes a descriptor the request still uses)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.finished = False
        self._cause: Interrupted | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        copy = sock.dup()
        with self._lock:
            if self.finished:
                copy.close()
                return
            self._sockets.append(copy)
            if self._cause is not None:
                _shut(copy)

    def interrupt(self, cause: Interrupted) -> None:
        with self._lock:
            if self.finished or self._cause is not None:
                return
            self._cause = cause
            for copy in self._sockets:
                _shut(copy)

    def finish(self) -> Interrupted | None:
        """Stop watching; the interruption if one came first (then the request's result is void)."""
        with self._lock:
            self.finished = True
            for copy in self._sockets:
                copy.close()
            self._sockets.clear()
            return self._cause


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected yet, or already closed: nothing to wake
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked connect, handshake or read in another thread


class _Watchdog:
    """One daemon thread and a heap of deadlines; it interrupts each request still running at its own."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._wake:
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="transport-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while True:
                    while self._heap and self._heap[0][2].finished:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._wake.wait()
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                due = heapq.heappop(self._heap)[2]
            due.interrupt(Interrupted("deadline", aborted=False))


class _Edge:
    """Every request in flight, and the station's stop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.aborted: str | None = None
        self.open: set[_Watch] = set()
        self.watchdog = _Watchdog()
        self.local = threading.local()


_EDGE = _Edge()


class Watched:
    """``with Watched(deadline):`` every socket opened inside by this module's connection classes is shut
    down at ``deadline`` or by ``abort_all``; leaving the block then raises ``Interrupted`` (also when the
    block ended normally: a reply cut short by the shutdown may look complete)."""

    def __init__(self, deadline: float) -> None:
        self._watch = _Watch(deadline)
        self._outer: _Watch | None = None

    def __enter__(self) -> Watched:
        with _EDGE.lock:
            if _EDGE.aborted is not None:
                raise Interrupted(_EDGE.aborted, aborted=True)
            if self._watch.deadline <= time.monotonic():
                raise Interrupted("deadline", aborted=False)
            _EDGE.open.add(self._watch)
        _EDGE.watchdog.add(self._watch)
        self._outer = getattr(_EDGE.local, "watch", None)
        _EDGE.local.watch = self._watch
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _EDGE.local.watch = self._outer
        with _EDGE.lock:
            _EDGE.open.discard(self._watch)
        cause = self._watch.finish()
        if cause is not None:
            raise cause from exc


@contextmanager
def call_deadline(at: float) -> Iterator[float]:
    """Every request this thread makes inside must be complete by ``at`` (``time.monotonic()``); nested
    blocks keep the earliest deadline, and a request's own timeout still applies when it is shorter."""
    stack: list[float] = _EDGE.local.__dict__.setdefault("deadlines", [])
    effective = min(at, stack[-1]) if stack else at
    stack.append(effective)
    try:
        yield effective
    finally:
        stack.pop()


def current_deadline() -> float | None:
    """The ``call_deadline`` in force in this thread, if any."""
    stack: list[float] = _EDGE.local.__dict__.get("deadlines", [])
    return stack[-1] if stack else None


def abort_all(reason: str) -> None:
    """Close every open connection now; every request until ``reset_abort()`` fails at once with
    DeviceUnreachable carrying ``reason`` (the station is stopping)."""
    with _EDGE.lock:
        _EDGE.aborted = reason
        running = list(_EDGE.open)
    for watch in running:
        watch.interrupt(Interrupted(reason, aborted=True))


def reset_abort() -> None:
    """Let requests through again after ``abort_all``."""
    with _EDGE.lock:
        _EDGE.aborted = None


# --- connections whose sockets the watchdog can reach ------------------------------------------------------


class _Endpoint(Protocol):
    """What ``_open_socket`` reads of a connection: urllib3's, or ``_PlainEndpoint``."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def timeout(self) -> Any: ...
    @property
    def socket_options(self) -> Sequence[SocketOption] | None: ...
    @property
    def source_address(self) -> tuple[str, int] | None: ...


@dataclass
class _PlainEndpoint:
    """Where a plain-HTTP request connects to (``_plain_exchange``; urllib3's connection is not needed)."""

    host: str
    port: int
    timeout: float
    socket_options: Sequence[SocketOption] | None
    source_address: tuple[str, int] | None = None


def _open_socket(conn: _Endpoint) -> socket.socket:
    """urllib3's ``_new_conn``, except that the socket joins the thread's ``Watched`` block before it
    connects, so a deadline or a stop also ends a connect or a TLS handshake that hangs."""
    watch: _Watch | None = getattr(_EDGE.local, "watch", None)
    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    try:
        addresses = socket.getaddrinfo(conn.host, conn.port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise urllib3.exceptions.NameResolutionError(conn.host, conn, exc) from exc  # type: ignore[arg-type]
    failure: OSError = OSError("no address")
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if watch is not None:
                watch.attach(sock)
            sock.settimeout(timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        return sock
    if isinstance(failure, TimeoutError):
        raise urllib3.exceptions.ConnectTimeoutError(conn, "connect timed out") from failure
    raise urllib3.exceptions.NewConnectionError(conn, "failed to connect") from failure  # type: ignore[arg-type]


class WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _open_socket(self)


class WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _open_socket(self)


class WatchedPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedTlsPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


# For a urllib3 PoolManager (``pool_classes_by_scheme``) that must honour ``Watched`` (the factory backend).
WATCHED_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": WatchedPool, "https": WatchedTlsPool}


# --- reading within a cap ----------------------------------------------------------------------------------


class ReplyTooLarge(ValueError):
    def __init__(self, cap: int) -> None:
        super().__init__(f"reply is larger than the {size_words(cap)} allowed for it")
        self.cap = cap


def size_words(size: int) -> str:
    """``1 MiB``, ``16 MiB``, ``4 KiB``, ``100 bytes``."""
    for unit, name in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def read_capped(chunks: Iterable[bytes], cap: int) -> bytes:
    """The chunks joined; ReplyTooLarge as soon as they pass ``cap`` (what was read is dropped)."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > cap:
            raise ReplyTooLarge(cap)
    return bytes(body)


def encoding_problem(headers: Mapping[str, str], cap: int) -> str | None:
    """Why a reply with these headers is refused before its body is read, in words; None if it is not.

    Any ``Content-Encoding`` but identity (a 4 MB gzip body can expand to 4 GB; none is asked for), an
    unknown ``Transfer-Encoding``, or a ``Content-Length`` past ``cap``.
    """
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return f"reply is encoded ({encoding[:40]!r}); only identity is accepted"
    transfer = headers.get("Transfer-Encoding", "").strip().lower()
    if transfer not in _TRANSFER_CODINGS:
        return f"reply has transfer encoding {transfer[:40]!r}; only chunked is accepted"
    length = headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > cap:
        return str(ReplyTooLarge(cap))
    return None


# --- the one request ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transport:
    """How to reach one unit or service: its base URL, its TLS pin (``https://`` only, and then required),
    ``route`` (called before every request with method and path: socket options such as the slot's
    SO_BINDTODEVICE, or DeviceUnreachable when there is no way to the unit now), ``on_lost`` (told when
    a request got no answer: the unit answering next may be another one) and ``pacer`` (a minimum spacing
    between this unit's requests, ``devices/pacing.py``)."""

    base_url: str
    tls: TlsPin | None = None
    route: Callable[[str, str], Sequence[SocketOption]] | None = None
    on_lost: Callable[[], None] | None = None
    pacer: Pacer | None = None

    def __post_init__(self) -> None:
        problem = url_problem(self.base_url)
        if problem is not None:  # a URL with credentials is not repeated: it may carry a password
            shown = "" if "@" in self.base_url else f" {self.base_url!r}"
            raise ValueError(f"URL{shown} {problem}")
        secure = urlsplit(self.base_url).scheme == "https"
        if secure and self.tls is None:
            raise ValueError(f"{self.base_url} needs a pinned certificate (tls_fingerprint or tls_ca)")
        if not secure and self.tls is not None:
            raise ValueError(f"{self.base_url}: a TLS pin needs an https:// URL")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @classmethod
    def plain(cls, base_url: str, *, tls: TlsPin | None = None, what: str = "URL") -> Transport:
        """A transport bound to no interface (tests, tools; slots use their link); errors name ``what``."""
        try:
            return cls(base_url, tls=tls)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None

    @cached_property
    def _where(self) -> tuple[str, int, str]:
        parts = urlsplit(self.base_url)
        assert parts.hostname is not None  # url_problem checked it
        return parts.hostname, parts.port or (443 if self.tls else 80), parts.path.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        cap: int = DEFAULT_CAP,
    ) -> Reply:
        """Send one request on a connection of its own and read the whole reply, or raise.

        ``timeout`` bounds connect and whole reply by the wall clock (a unit dripping one byte every
        second is cut off at it), as does the thread's ``call_deadline`` when it comes first. Never
        through a proxy; a redirect is just its status; ``Accept-Encoding: identity``. Raises
        DeviceTimeout (naming the deadline), DeviceUnreachable (refused, reset, TLS, the link's route,
        ``abort_all``) or DeviceProtocolError with no status (a bad-reply verdict: past ``cap``, encoded,
        unknown transfer coding). Statuses are the caller's to judge. With a ``pacer`` the request first
        waits its turn (the timeout counts from then; a ``call_deadline`` counts all along).
        """
        turn = self.pacer.turn() if self.pacer is not None else contextlib.nullcontext()
        with turn:
            return self._request(
                method, path, body=body, headers=headers, query=query, timeout=timeout, cap=cap
            )

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        query: Mapping[str, str] | None,
        timeout: float,
        cap: int,
    ) -> Reply:
        started = time.monotonic()
        outer = current_deadline()
        deadline = started + timeout if outer is None else min(started + timeout, outer)
        target = self._where[2] + path + (f"?{urlencode(query)}" if query else "")
        options = tuple(self.route(method, path)) if self.route is not None else ()
        exchange = self._tls_exchange if self.tls is not None else self._plain_exchange
        try:
            with Watched(deadline):
                return exchange(
                    method,
                    path,
                    target=target,
                    body=body,
                    headers=headers,
                    options=options,
                    deadline=deadline,
                    cap=cap,
                )
        except Interrupted as stop:
            if stop.aborted:
                raise DeviceUnreachable(f"{method} {path}: {stop.reason}", endpoint=path) from None
            error: DeviceError = DeviceTimeout(
                _late(method, path, timeout, deadline - started, "reply not complete by then"), endpoint=path
            )
        except (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
            error = _failure(method, path, exc, timeout, deadline - started)
        if self.on_lost is not None:
            self.on_lost()
        raise error from None

    def _tls_exchange(
        self,
        method: str,
        path: str,
        *,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        options: tuple[SocketOption, ...],
        deadline: float,
        cap: int,
    ) -> Reply:
        assert self.tls is not None  # ``_request`` sends ``http://`` to ``_plain_exchange``
        host, port, _ = self._where
        socket_options = [*HTTPConnection.default_socket_options, *options]
        conn = WatchedHTTPSConnection(
            host,
            port,
            timeout=_left(deadline),
            socket_options=socket_options,
            **self.tls.connection_options(),
        )
        sent = {**(headers or {}), "Connection": "close", "Accept-Encoding": "identity"}
        try:
            conn.connect()
            conn.timeout = _left(deadline)
            conn.request(method, target, body=body, headers=sent, preload_content=False, decode_content=False)
            conn.timeout = _left(deadline)
            response = conn.getresponse()
            problem = encoding_problem(response.headers, cap)
            if problem is not None:
                raise _bad_reply(method, path, response.status, problem)
            try:
                content = read_capped(response.stream(CHUNK, decode_content=False), cap)
            except ReplyTooLarge as large:
                raise _bad_reply(method, path, response.status, str(large)) from None
            return Reply(response.status, response.headers, content)
        finally:
            conn.close()

    def _plain_exchange(
        self,
        method: str,
        path: str,
        *,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        options: tuple[SocketOption, ...],
        deadline: float,
        cap: int,
    ) -> Reply:
        """``_tls_exchange``'s work for ``http://``, on a socket of its own, framed by h11
        (``devices/plainhttp.py``): the same request bytes and the same reply checks, without urllib3's and
        http.client's machinery (a third of the station's CPU per request, most of it parsing reply headers
        through ``email``)."""
        host, port, _ = self._where
        client, request = plainhttp.start(method, target, host=host, port=port, body=body, headers=headers)
        socket_options = [*HTTPConnection.default_socket_options, *options]
        sock = _open_socket(_PlainEndpoint(host, port, _left(deadline), socket_options))
        with sock:
            sock.settimeout(_left(deadline))
            sock.sendall(request)
            sock.settimeout(_left(deadline))
            reply = plainhttp.ReplyReader(client, sock)
            try:
                try:
                    status, fields = reply.head()
                except plainhttp.CodingRefused as refused:
                    raise _bad_reply(method, path, None, refused.problem) from None
                problem = encoding_problem(fields, cap)
                if problem is not None:
                    raise _bad_reply(method, path, status, problem)
                try:
                    content = read_capped(reply.body(), cap)
                except ReplyTooLarge as large:
                    raise _bad_reply(method, path, status, str(large)) from None
            except TimeoutError as late:
                raise urllib3.exceptions.ReadTimeoutError(None, target, "read timed out") from late  # type: ignore[arg-type]
            return Reply(status, fields, content)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _bad_reply(method: str, path: str, status: int | None, problem: str) -> DeviceProtocolError:
    # No status: the engine's verdict is bad-reply whatever the status line said.
    shown = "" if status is None else f" (HTTP {status})"
    return DeviceProtocolError(f"{method} {path}: {problem}{shown}", endpoint=path)


def _late(method: str, path: str, timeout: float, budget: float, cause: str) -> str:
    if budget < timeout - 0.001:
        return f"{method} {path}: no answer by the call's deadline ({budget:.1f} s; {cause})"
    return f"{method} {path}: no answer within {timeout:g} s ({cause})"


def _failure(method: str, path: str, exc: BaseException, timeout: float, budget: float) -> DeviceError:
    tls = _tls_cause(exc)
    if tls is not None:
        return DeviceUnreachable(f"{method} {path}: {tls}", endpoint=path)
    timed_out, cause = describe_failure(exc)
    if timed_out:
        return DeviceTimeout(_late(method, path, timeout, budget, cause), endpoint=path)
    return DeviceUnreachable(f"{method} {path}: {cause}", endpoint=path)


def _tls_cause(exc: BaseException) -> str | None:
    """A failed TLS handshake in words: whose certificate was refused by which pin."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, urllib3.exceptions.SSLError) and "ingerprint" in str(seen):
            return "TLS certificate is not the pinned one (tls_fingerprint)"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "TLS certificate is not signed by the pinned CA (tls_ca)"
        if isinstance(seen, ssl.SSLError | urllib3.exceptions.SSLError):
            return "TLS handshake failed"
        seen = seen.__cause__ or seen.__context__
    return None
