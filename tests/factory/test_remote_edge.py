"""The factory backend's replies are bounded as a unit's are: a size cap, identity only, no redirect, and a
wall-clock deadline a drip cannot stretch (the station's stop and a step's deadline end it too)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from station.core.errors import BackendError, BackendRefused
from station.devices.transport import abort_all, call_deadline, reset_abort
from station.factory.remote import RemoteBackend
from tests.edgeserver import Behaviour, EdgeServer, drip, endless_chunked, hang, reply, until_closed

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n"


@pytest.fixture
def no_abort() -> Iterator[None]:
    yield
    reset_abort()


@pytest.mark.parametrize(
    "behaviour",
    [reply(200, b" " * (2 << 20)), until_closed(b" " * (2 << 20)), endless_chunked],
    ids=["content-length", "until-close", "endless-chunked"],
)
def test_an_oversized_reply_is_refused_naming_the_cap(behaviour: Behaviour) -> None:
    with EdgeServer(behaviour) as server:
        started = time.monotonic()
        with pytest.raises(BackendError, match="larger than the 1 MiB allowed"):
            RemoteBackend(server.url, timeout=10).checkin("a.b.c")
        assert time.monotonic() - started < 5


def test_an_encoded_reply_is_refused_and_identity_asked_for() -> None:
    with EdgeServer(reply(200, b"\x1f\x8b" + b"\x00" * 30, Content_Encoding="gzip")) as server:
        with pytest.raises(BackendError, match="encoded \\('gzip'\\)"):
            RemoteBackend(server.url).checkin("a.b.c")
        assert b"accept-encoding: identity\r\n" in server.hits[0].lower()


def test_a_redirect_is_not_followed() -> None:
    with EdgeServer(reply(200, b'{"checked": "x"}')) as target:
        with (
            EdgeServer(reply(307, b"", Location=target.url + "/checkin")) as moved,
            pytest.raises(BackendError, match=r"HTTP 307"),
        ):
            RemoteBackend(moved.url).checkin("a.b.c")
        assert target.hits == []


def test_a_drip_ends_at_the_backends_timeout() -> None:
    with EdgeServer(drip(HEAD, b" " * 64, every=0.1)) as server:
        started = time.monotonic()
        with pytest.raises(BackendError, match="no complete reply by the deadline"):
            RemoteBackend(server.url, timeout=1).checkin("a.b.c")
        assert time.monotonic() - started < 2


def test_a_steps_deadline_bounds_a_backend_request() -> None:
    with EdgeServer(hang) as server:
        started = time.monotonic()
        with call_deadline(started + 0.5), pytest.raises(BackendError):
            RemoteBackend(server.url, timeout=30).checkin("a.b.c")
        assert time.monotonic() - started < 1.5


def test_the_stop_ends_a_backend_request(no_abort: None) -> None:
    with EdgeServer(hang) as server:
        caught: list[BaseException] = []

        def ask() -> None:
            try:
                RemoteBackend(server.url, timeout=30).checkin("a.b.c")
            except BackendError as exc:
                caught.append(exc)

        worker = threading.Thread(target=ask)
        worker.start()
        while not server.hits:
            time.sleep(0.01)
        abort_all("the station is stopping")
        worker.join(2)
        assert not worker.is_alive()
        assert "the station is stopping" in str(caught[0])


def test_refusals_still_carry_the_reason() -> None:
    with (
        EdgeServer(reply(403, b'{"error": "unit not genuine"}')) as server,
        pytest.raises(BackendRefused, match=r"refused \(HTTP 403\): unit not genuine"),
    ):
        RemoteBackend(server.url).checkin("a.b.c")
