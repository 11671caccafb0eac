"""The plain-HTTP path's framing on h11 (``devices/plainhttp.py``): what h11 reads differently from the
hand-written parser it replaced, and the framings a hostile unit can choose, over real sockets.

h11 is stricter than http.client was: a head it cannot parse is "not well-formed HTTP" (DeviceUnreachable,
as a status line that is not HTTP always was), and a transfer coding other than chunked (``identity``
included) is a bad reply. ``tests/test_transport_plain.py`` holds the cases both parsers read alike.
"""

from __future__ import annotations

import pytest

from station.core.errors import DeviceProtocolError, DeviceUnreachable
from station.devices import plainhttp
from station.devices.transport import Reply, Transport
from tests.edgeserver import EdgeServer, raw


def ask(edge: list[EdgeServer], *pieces: bytes, cap: int = 1 << 20) -> Reply:
    server = EdgeServer(raw(*pieces))
    edge.append(server)
    return Transport(server.url).request("GET", "/api/x", timeout=5, cap=cap)


# --- framings a unit may choose ----------------------------------------------------------------------------


def test_a_reply_without_length_is_read_to_the_close(edge: list[EdgeServer]) -> None:
    answer = ask(edge, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", b'{"a":', b"1}")
    assert (answer.status_code, answer.content) == (200, b'{"a":1}')


def test_a_chunked_reply_in_pieces_that_split_its_framing(edge: list[EdgeServer]) -> None:
    answer = ask(
        edge, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r", b'\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n'
    )
    assert answer.content == b'{"a":1}'
    assert answer.headers["transfer-encoding"] == "chunked"


def test_a_chunked_reply_past_its_cap_is_a_bad_reply_with_no_status(edge: list[EdgeServer]) -> None:
    chunk = b"400\r\n" + b"x" * 0x400 + b"\r\n"
    with pytest.raises(DeviceProtocolError, match="larger than the 4 KiB allowed") as refused:
        ask(edge, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk * 5, b"0\r\n\r\n", cap=4096)
    assert refused.value.status is None


def test_header_names_keep_their_case_and_are_found_in_any(edge: list[EdgeServer]) -> None:
    answer = ask(edge, b"HTTP/1.1 201 Created\r\nX-Unit-Id: A1\r\nContent-Length: 0\r\n\r\n")
    assert answer.status_code == 201
    assert list(answer.headers) == ["X-Unit-Id", "Content-Length"]
    assert answer.headers["x-unit-id"] == "A1"


# --- what h11 refuses that the hand-written parser let through ---------------------------------------------


@pytest.mark.parametrize(
    "coding",
    [b"Transfer-Encoding: identity", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"],
    ids=["identity", "twice"],
)
def test_any_transfer_coding_but_one_chunked_is_a_bad_reply(edge: list[EdgeServer], coding: bytes) -> None:
    with pytest.raises(DeviceProtocolError, match=r"transfer encoding .*only chunked is accepted") as refused:
        ask(edge, b"HTTP/1.1 200 OK\r\n" + coding + b"\r\n\r\n{}")
    assert refused.value.status is None


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 2000 OK\r\n\r\n",  # a status of four digits
        b"HTTP/1.1\r\n\r\n",  # no status at all
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",  # two lengths
        b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 2\r\n\r\n{}",  # NUL in a value
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{}",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",  # an upgrade nobody asked for
        b"HTTP/1.1 200 O",  # the connection closes inside the head
    ],
    ids=["4-digit-status", "no-status", "two-lengths", "negative-length", "nul", "no-colon", "101", "cut"],
)
def test_a_head_h11_cannot_read_is_not_well_formed_http(edge: list[EdgeServer], head: bytes) -> None:
    with pytest.raises(DeviceUnreachable, match="not well-formed HTTP"):
        ask(edge, head)


def test_a_head_past_the_limit_is_refused_one_just_under_it_read(edge: list[EdgeServer]) -> None:
    # h11 checks the limit while the head is incomplete: one socket read past it may still complete it
    filler = b"X-Pad: " + b"p" * 1000 + b"\r\n"
    under = filler * (plainhttp.MAX_HEAD // len(filler) - 1)
    assert ask(edge, b"HTTP/1.1 200 OK\r\n" + under + b"Content-Length: 2\r\n\r\n{}").content == b"{}"
    with pytest.raises(DeviceUnreachable, match="not well-formed HTTP"):
        ask(edge, b"HTTP/1.1 200 OK\r\n" + filler * (4 * plainhttp.MAX_HEAD // len(filler)) + b"\r\n{}")


def test_a_chunk_size_line_without_end_is_cut_at_the_limit(edge: list[EdgeServer]) -> None:
    with pytest.raises(DeviceUnreachable, match="connection dropped mid-reply"):
        ask(edge, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"1" * (2 * plainhttp.MAX_HEAD))


# --- the request -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/x y", {}),  # a space would end the target
        ("/api/x", {"X-A:b": "c"}),  # a colon in a name would start its value
        ("/api/x", {"Authorization": "Bearer secret-token\nX-Injected: 1"}),
    ],
)
def test_a_request_that_could_be_split_is_refused_before_connecting(
    edge: list[EdgeServer], path: str, headers: dict[str, str]
) -> None:
    server = EdgeServer(raw(b"HTTP/1.1 204 No Content\r\n\r\n"))
    edge.append(server)
    with pytest.raises(ValueError, match="could split the request") as refused:
        Transport(server.url).request("GET", path, headers=headers)
    assert "secret-token" not in str(refused.value)
    assert server.hits == []
