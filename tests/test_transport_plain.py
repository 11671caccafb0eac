"""The plain-HTTP path of ``Transport``: the request it sends and the replies it reads, byte for byte.

``tests/test_transport.py`` covers caps, encodings, deadlines and redirects on the same path; these are
the framing cases http.client used to handle for it: 1xx before the reply, folded and repeated headers,
chunk extensions and trailers, a body shorter than its length, a status line that is not HTTP.
"""

from __future__ import annotations

import pytest

from station.core.errors import DeviceUnreachable
from station.devices.transport import Reply, Transport
from tests.edgeserver import EdgeServer, raw


def ask(edge: list[EdgeServer], reply: bytes, method: str = "GET", body: bytes | None = None) -> Reply:
    server = EdgeServer(raw(reply))
    edge.append(server)
    return Transport(server.url).request(method, "/api/x", body=body, timeout=5)


def test_the_request_head_is_what_urllib3_sent(edge: list[EdgeServer]) -> None:
    server = EdgeServer(raw(b"HTTP/1.1 204 No Content\r\n\r\n"))
    edge.append(server)
    Transport(server.url).request("POST", "/api/x", body=b'{"a":1}', headers={"X-Y": "z"}, query={"q": "1 2"})
    head, _, body = server.hits[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/x?q=1+2 HTTP/1.1"
    assert lines[1] == f"Host: 127.0.0.1:{server.port}"
    assert set(lines[2:]) >= {"Content-Length: 7", "X-Y: z", "Connection: close", "Accept-Encoding: identity"}
    assert any(line.startswith("User-Agent: python-urllib3/") for line in lines)
    assert body == b'{"a":1}'


def test_a_header_value_with_a_line_break_is_refused_before_sending(edge: list[EdgeServer]) -> None:
    server = EdgeServer(raw(b"HTTP/1.1 204 No Content\r\n\r\n"))
    edge.append(server)
    with pytest.raises(ValueError, match="could split the request"):
        Transport(server.url).request("GET", "/api/x", headers={"X-Y": "a\r\nInjected: 1"})
    assert server.hits == []


def test_informational_replies_folded_and_repeated_headers(edge: list[EdgeServer]) -> None:
    reply = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Long: one\r\n  two\r\nX-Twice: a\r\nx-twice: b\r\n\r\n{}"
    )
    answer = ask(edge, reply)
    assert answer.status_code == 200
    assert answer.headers["x-long"] == "one two"
    assert answer.headers["X-TWICE"] == "a, b"
    assert answer.content == b"{}"


def test_chunks_with_extensions_and_trailers(edge: list[EdgeServer]) -> None:
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'2;name=value\r\n{"\r\n3\r\na":\r\n2\r\n1}\r\n0\r\nX-Trailer: t\r\n\r\n'
    )
    assert ask(edge, reply).content == b'{"a":1}'


def test_no_body_after_head_204_or_304(edge: list[EdgeServer]) -> None:
    assert ask(edge, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", method="HEAD").content == b""
    assert ask(edge, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").content == b""


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "connection dropped mid-reply"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}", "connection dropped mid-reply"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "connection dropped mid-reply"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not well-formed HTTP"),
        (b"", "connection reset|closed the connection without answering"),  # as http.client reported it
    ],
)
def test_broken_replies_are_unreachable_naming_why(edge: list[EdgeServer], reply: bytes, cause: str) -> None:
    with pytest.raises(DeviceUnreachable, match=cause):
        ask(edge, reply)
