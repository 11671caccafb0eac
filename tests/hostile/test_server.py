"""The hostile unit itself: forwarding is transparent, and each sabotage does what it says (plain sockets).

These run without a station: they prove the tool before ``test_hostile_units.py`` uses it to prove the
station, so a station test that passes does so because the station coped, not because nothing was sent.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import time
import zlib

import pytest
import requests

from station.sim.ppa.device import SimulatedPpa
from tests import simtools
from tests.conftest import BACKEND_PRIVATE
from tests.hostile.memory import MemoryWatch
from tests.hostile.server import (
    MB,
    Fill,
    HostileUnit,
    deep,
    drip,
    duplicate_key,
    endless,
    field,
    gzip_bomb,
    hang,
    huge,
    nan,
    redirect,
)

STATUS, VERSION = "/api/system/status", "/api/system/version"
TIMEOUT = 10


def raw_get(url: str, path: str, *, timeout: float = TIMEOUT) -> socket.socket:
    """A socket that has sent ``GET path`` to ``url``; the caller reads the reply."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_head(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before the head ended"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, rest


# --- forwarding ------------------------------------------------------------------------------------------


def test_forwarding_is_byte_for_byte(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", STATUS): nan("temp")}) as hostile:
        direct = requests.get(unit.http_url + VERSION, timeout=TIMEOUT)
        relayed = requests.get(hostile.url + VERSION, timeout=TIMEOUT)
        assert relayed.status_code == direct.status_code == 200
        assert relayed.content == direct.content
        assert relayed.headers == direct.headers
        assert hostile.fired("GET", VERSION) == 0
        assert list(hostile.requests) == [("GET", VERSION)]


def test_forwarding_carries_posts_and_errors(unit: SimulatedPpa) -> None:
    """A whole check-in (GET, then a POST with a body) works through the proxy; error replies pass too."""
    with HostileUnit(unit.http_url) as hostile:
        assert simtools.checkin(hostile.url, BACKEND_PRIVATE).status_code == 200
        assert "time" in requests.get(hostile.url + STATUS, timeout=TIMEOUT).json()
        missing = requests.get(hostile.url + "/api/nothing/here", timeout=TIMEOUT)
        assert (
            missing.status_code
            == requests.get(unit.http_url + "/api/nothing/here", timeout=TIMEOUT).status_code
        )
        assert ("POST", "/api/system/checkin") in hostile.requests


def test_times_limits_a_sabotage(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", STATUS): nan("temp").limited(1)}) as hostile:
        assert math.isnan(requests.get(hostile.url + STATUS, timeout=TIMEOUT).json()["temp"])
        assert not math.isnan(requests.get(hostile.url + STATUS, timeout=TIMEOUT).json()["temp"])
        assert hostile.fired("GET", STATUS) == 1


# --- unbounded replies ---------------------------------------------------------------------------------


def test_endless_never_ends_and_stops_on_close(unit: SimulatedPpa) -> None:
    hostile = HostileUnit(unit.http_url, {("GET", VERSION): endless()}).start()
    try:
        sock = raw_get(hostile.url, VERSION)
        status, headers, _ = read_head(sock)
        assert status.startswith("HTTP/1.1 200")
        assert headers["transfer-encoding"] == "chunked"
        received = 0
        while received < 8 * MB:  # far more than any real reply, and still coming
            chunk = sock.recv(1 << 16)
            assert chunk, "the endless reply ended"
            assert b"\r\n0\r\n\r\n" not in chunk
            received += len(chunk)
        assert hostile.fired("GET", VERSION) == 1
    finally:
        started = time.monotonic()
        hostile.close()
    assert time.monotonic() - started < 3
    assert hostile.threads() == 0
    sock.settimeout(3)  # what was in flight drains, then the stream ends (never a timeout)
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        pass
    sock.close()


def test_huge_is_valid_json_of_the_exact_size(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): huge(size=1 * MB)}) as hostile:
        reply = requests.get(hostile.url + VERSION, timeout=TIMEOUT)
        assert len(reply.content) == int(reply.headers["Content-Length"]) == 1 * MB
        body = reply.json()
        real = requests.get(unit.http_url + VERSION, timeout=TIMEOUT).json()
        assert {key: value for key, value in body.items() if key != "pad"} == real
        assert set(body["pad"]) == {"a"}


def test_huge_default_is_200_mb_streamed_not_held(unit: SimulatedPpa) -> None:
    with (
        HostileUnit(unit.http_url, {("GET", VERSION): huge()}) as hostile,
        MemoryWatch() as memory,
        requests.get(hostile.url + VERSION, timeout=TIMEOUT, stream=True) as reply,
    ):
        assert int(reply.headers["Content-Length"]) == 200 * MB
        received = sum(len(chunk) for chunk in reply.iter_content(1 << 20))
    assert received == 200 * MB
    assert memory.growth < 40 * MB, memory.describe()  # neither the server nor this reader held the body


def test_gzip_bomb_is_a_valid_gzip_of_the_real_reply(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): gzip_bomb(expanded=64 * MB)}) as hostile:
        with requests.get(hostile.url + VERSION, timeout=TIMEOUT, stream=True) as reply:
            assert reply.headers["Content-Encoding"] == "gzip"
            compressed = reply.raw.read(decode_content=False)
        assert len(compressed) == int(reply.headers["Content-Length"])
        inflate = zlib.decompressobj(31)  # gzip: checks the CRC and the size in the trailer
        expanded = inflate.decompress(compressed)
        assert inflate.eof and not inflate.unused_data
        assert len(expanded) == 64 * MB
        real = requests.get(unit.http_url + VERSION, timeout=TIMEOUT).json()
        assert json.loads(expanded) == real  # the real reply, then whitespace
        assert len(compressed) < 128 * 1024


def test_gzip_bomb_default_is_a_few_mb_expanding_to_gigabytes(unit: SimulatedPpa) -> None:
    with (
        HostileUnit(unit.http_url, {("GET", VERSION): gzip_bomb()}) as hostile,
        requests.get(hostile.url + VERSION, timeout=TIMEOUT, stream=True) as reply,
    ):
        size = int(reply.headers["Content-Length"])
        sample = reply.raw.read(256 * 1024, decode_content=False)
    assert 1 * MB < size < 8 * MB
    inflate, expanded, data = zlib.decompressobj(31), 0, sample
    while data:  # bounded output per call: this test's memory stays small
        expanded += len(inflate.decompress(data, 4 * MB))
        data = inflate.unconsumed_tail
    assert expanded > 200 * len(sample)  # ~1000:1, so ~4 GB for the whole body


# --- slow and silent ----------------------------------------------------------------------------------


def test_drip_sends_the_real_reply_one_byte_at_a_time(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): drip(interval=0.1)}) as hostile:
        sock = raw_get(hostile.url, VERSION)
        started, received = time.monotonic(), b""
        while len(received) < 8:
            chunk = sock.recv(100)
            assert len(chunk) == 1
            received += chunk
        assert time.monotonic() - started >= 0.7
        assert received == b"HTTP/1.1"
        sock.close()
        assert hostile.fired("GET", VERSION) == 1
        deadline = time.monotonic() + 3
        while hostile.open_connections() and time.monotonic() < deadline:  # the drip notices the peer left
            time.sleep(0.05)
        assert hostile.open_connections() == 0


def test_hang_reads_the_request_and_never_answers(unit: SimulatedPpa) -> None:
    hostile = HostileUnit(unit.http_url, {("GET", VERSION): hang()}).start()
    try:
        sock = raw_get(hostile.url, VERSION, timeout=1.0)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        assert hostile.wait_fired("GET", VERSION, timeout=1)
    finally:
        started = time.monotonic()
        hostile.close()
    assert time.monotonic() - started < 3
    sock.settimeout(3)
    assert sock.recv(1) == b""  # closing the server ended the hang
    sock.close()


# --- transport --------------------------------------------------------------------------------------------


def test_redirect_points_at_the_counter_which_counts(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", STATUS): redirect()}) as hostile:
        connection = http.client.HTTPConnection("127.0.0.1", hostile.port, timeout=TIMEOUT)
        connection.request("GET", STATUS)
        reply = connection.getresponse()
        assert reply.status == 302
        assert reply.getheader("Location") == f"{hostile.counter.url}{STATUS}"
        connection.close()
        assert list(hostile.counter.hits) == []
        followed = requests.get(hostile.url + STATUS, timeout=TIMEOUT)  # requests follows by default
        assert followed.status_code == 200
        assert list(hostile.counter.hits) == [("GET", STATUS)]


# --- the real reply rewritten ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["\x1b[31mPPA rev 2.2\x1b[0m", "PPA\n  A1  PASS  fakefakefake  record spoofed", "PPA\r\x07\x9b"],
    ids=["escape", "newline", "cr-bel-csi"],
)
def test_field_carries_any_string(unit: SimulatedPpa, value: str) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): field("hwv", value)}) as hostile:
        body = requests.get(hostile.url + VERSION, timeout=TIMEOUT).json()
        real = requests.get(unit.http_url + VERSION, timeout=TIMEOUT).json()
        assert body == {**real, "hwv": value}


def test_field_fill_is_a_20_mb_string(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): field("hwv", Fill("A"))}) as hostile:
        body = requests.get(hostile.url + VERSION, timeout=TIMEOUT).json()
    assert body["hwv"] == "A" * (20 * MB)
    assert body["fwv"]


def test_duplicate_key_repeats_the_member_in_order(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", STATUS): duplicate_key("inited", False, True)}) as hostile:
        reply = requests.get(hostile.url + STATUS, timeout=TIMEOUT)
    pairs = json.loads(reply.content, object_pairs_hook=list)
    assert [value for name, value in pairs if name == "inited"] == [False, True]
    assert pairs[0] == ("inited", False) and pairs[-1] == ("inited", True)
    assert {"ctx", "uptime", "temp", "fls_state"} <= {name for name, _ in pairs}
    assert reply.json()["inited"] is True  # Python's reader: the last one wins


def test_deep_nests_100000_arrays(unit: SimulatedPpa) -> None:
    with HostileUnit(unit.http_url, {("GET", VERSION): deep()}) as hostile:
        reply = requests.get(hostile.url + VERSION, timeout=TIMEOUT)
    assert reply.content.count(b"[") == 100_000 == reply.content.count(b"]")
    assert b'"deep": [[[' in reply.content
    with pytest.raises(RecursionError):
        json.loads(reply.content)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_is_a_raw_token(unit: SimulatedPpa, token: str) -> None:
    with HostileUnit(unit.http_url, {("GET", STATUS): nan("temp", token)}) as hostile:
        reply = requests.get(hostile.url + STATUS, timeout=TIMEOUT)
    assert f'"temp": {token},'.encode() in reply.content
    assert not math.isfinite(reply.json()["temp"])

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    with pytest.raises(ValueError, match=token):
        json.loads(reply.content, parse_constant=refuse)


def test_close_ends_every_thread_and_the_listener(unit: SimulatedPpa) -> None:
    hostile = HostileUnit(
        unit.http_url, {("GET", VERSION): drip(interval=5), ("GET", STATUS): hang()}
    ).start()
    sockets = [raw_get(hostile.url, VERSION), raw_get(hostile.url, STATUS)]
    assert hostile.wait_fired("GET", VERSION) and hostile.wait_fired("GET", STATUS)
    started = time.monotonic()
    hostile.close()
    assert time.monotonic() - started < 3
    assert hostile.threads() == 0 and hostile.open_connections() == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", hostile.port), timeout=2)
    for sock in sockets:
        sock.close()
