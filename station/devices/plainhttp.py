"""HTTP/1.1 framing for ``Transport``'s ``http://`` path on h11 (sans-IO): the request bytes, the reply.

Socket, deadline, size cap and encoding checks stay in ``transport.py``; h11 parses (issue 19: cheaper
than http.client's ``email`` header parsing; ``bench/transport.py``).

>>> _, head = start("GET", "/api/system/status", host="127.0.0.1", port=8080, body=None, headers=None)
>>> head.split(b"\\r\\n")[:2]
[b'GET /api/system/status HTTP/1.1', b'Host: 127.0.0.1:8080']
"""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Iterator, Mapping

import h11
from urllib3._collections import HTTPHeaderDict
from urllib3._version import __version__ as urllib3_version

USER_AGENT = f"python-urllib3/{urllib3_version}"  # what urllib3 sent, so a unit sees no difference
MAX_HEAD = 64 * 1024  # bytes of an unfinished reply head or chunk size line (checked between reads: + READ)
READ = 64 * 1024  # bytes asked of the socket at a time
_NO_BODY_METHODS = frozenset(("GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"))  # no Content-Length
_NOT_IMPLEMENTED = 501  # h11's error_status_hint for a transfer coding it does not implement
_TRANSFER_ENCODING = re.compile(rb"^transfer-encoding[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.I | re.M)


class BrokenReply(http.client.HTTPException):
    """The reply's head is not HTTP/1.1 as h11 reads it (the text is h11's and is never shown)."""


class CodingRefused(Exception):
    """The reply uses a transfer coding other than chunked; ``problem`` says which, in words."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def start(
    method: str, target: str, *, host: str, port: int, body: bytes | None, headers: Mapping[str, str] | None
) -> tuple[h11.Connection, bytes]:
    """The request urllib3 would send (Host, Content-Length, User-Agent, the caller's headers, then
    ``Connection: close`` and ``Accept-Encoding: identity``, which win over the caller's; then the body),
    and the h11 connection that framed it, ready to read the reply with ``ReplyReader``.

    ValueError, before anything is sent, for a method, target or header that could split the request
    (a CR, LF or other control character); the message never repeats a header's value (it may be secret).
    """
    try:
        return _client(method, target, host=host, port=port, body=body, headers=headers)
    except (h11.LocalProtocolError, UnicodeError):
        raise ValueError(
            f"{method[:16]!r} request: the method, target or a header has a character that could split "
            "the request"
        ) from None


def _client(
    method: str, target: str, *, host: str, port: int, body: bytes | None, headers: Mapping[str, str] | None
) -> tuple[h11.Connection, bytes]:
    shown = f"[{host}]" if ":" in host else host
    sent = {**(headers or {}), "Connection": "close", "Accept-Encoding": "identity"}
    names = {name.lower() for name in sent}
    fields: list[tuple[bytes, bytes]] = [(b"Host", (shown if port == 80 else f"{shown}:{port}").encode())]
    if "content-length" not in names and "transfer-encoding" not in names:
        if body is not None:
            fields.append((b"Content-Length", str(len(body)).encode()))
        elif method.upper() not in _NO_BODY_METHODS:
            fields.append((b"Content-Length", b"0"))
    if "user-agent" not in names:
        fields.append((b"User-Agent", USER_AGENT.encode()))
    fields += [(name.encode("ascii"), value.encode("latin-1")) for name, value in sent.items()]
    client = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    data = client.send(
        h11.Request(method=method.encode("ascii"), target=target.encode("ascii"), headers=fields)
    )
    if body:
        data += client.send(h11.Data(data=body))
    data += client.send(h11.EndOfMessage())
    return client, data


class ReplyReader:
    """The reply to the request ``client`` sent, read from ``sock``: ``head()`` once, then ``body()``.

    The socket's timeout and whoever shuts it down (the watchdog) bound the reading; a ``TimeoutError``
    from the socket is left to the caller. What h11 cannot parse raises an ``http.client`` exception, so
    ``devices.http.describe_failure`` words it as it did for http.client: no byte at all is
    ``RemoteDisconnected`` ("closed the connection without answering"); a broken head (status line,
    header line, a head past ``MAX_HEAD``, a 101 nobody asked for) is ``BrokenReply`` ("not well-formed
    HTTP"); a body cut short or a broken chunk is ``IncompleteRead`` ("connection dropped mid-reply").
    A transfer coding other than chunked is ``CodingRefused`` (the caller's bad-reply verdict).
    """

    def __init__(self, client: h11.Connection, sock: socket.socket) -> None:
        self._client = client
        self._sock = sock
        self._head = bytearray()  # what came before the final reply's head was parsed, for CodingRefused
        self._in_body = False

    def head(self) -> tuple[int, HTTPHeaderDict]:
        """Status and headers (case-insensitive, repeated ones joined) of the final reply; 1xx skipped."""
        while True:
            event = self._next()
            if isinstance(event, h11.Response):
                self._in_body = True
                self._head.clear()
                fields = HTTPHeaderDict()
                for name, value in event.headers.raw_items():
                    fields.add(name.decode("latin-1"), value.decode("latin-1"))
                return event.status_code, fields
            if not isinstance(event, h11.InformationalResponse):
                raise BrokenReply(f"unexpected {type(event).__name__} before the reply")

    def body(self) -> Iterator[bytes]:
        """The body's pieces as they arrive, whatever its framing (length, chunked, or up to the close)."""
        while True:
            event = self._next()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise http.client.IncompleteRead(b"")

    def _next(self) -> h11.Event:
        while True:
            try:
                event = self._client.next_event()
            except h11.RemoteProtocolError as exc:
                raise self._broken(exc) from None
            if isinstance(event, h11.Event):
                return event
            if event is h11.PAUSED:  # h11 waits for a protocol switch: never asked for, not HTTP
                raise BrokenReply("reply switched protocols")
            data = self._sock.recv(READ)
            if not self._in_body and len(self._head) < 2 * MAX_HEAD:  # endless 1xx replies: keep the start
                self._head += data
            self._client.receive_data(data)

    def _broken(self, exc: h11.RemoteProtocolError) -> Exception:
        if self._in_body:
            return http.client.IncompleteRead(b"")
        if exc.error_status_hint == _NOT_IMPLEMENTED:
            coding = b", ".join(_TRANSFER_ENCODING.findall(bytes(self._head))).decode("latin-1")
            return CodingRefused(f"reply has transfer encoding {coding[:40]!r}; only chunked is accepted")
        if not self._head:
            return http.client.RemoteDisconnected("Remote end closed connection without response")
        return BrokenReply(str(exc))
