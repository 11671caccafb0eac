"""The bounded HTTP edge (``devices/transport.py``) over real sockets on 127.0.0.1: size caps, encodings,
wall-clock deadlines against a drip and a hang, redirects, call deadlines, the station's abort, TLS pins."""

from __future__ import annotations

import hashlib
import itertools
import ssl
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from station.core.codec import x25519_public_key
from station.core.errors import DeviceProtocolError, DeviceTimeout, DeviceUnreachable
from station.core.events import EventBus
from station.devices.pacing import UNIT_SPACING, Pacer
from station.devices.ppa.client import PpaClient
from station.devices.transport import (
    DEFAULT_CAP,
    TlsPin,
    Transport,
    abort_all,
    call_deadline,
    current_deadline,
    reset_abort,
)
from station.fixtures.registry import FixtureContext
from station.pipeline.engine import Engine, RunContext, Step
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.identity import https_credentials
from tests.conftest import BACKEND_PRIVATE
from tests.edgeserver import EdgeServer, drip, endless_chunked, hang, reply, until_closed

STATUS = "/api/system/status"
VERSION = "/api/system/version"
HEAD_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n"


@pytest.fixture
def serve() -> Iterator[Callable[..., EdgeServer]]:
    servers: list[EdgeServer] = []

    def start(behaviour: Callable[..., None]) -> EdgeServer:
        servers.append(EdgeServer(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def no_abort() -> Iterator[None]:
    """Whatever a test aborts is let through again afterwards (the abort is process-wide)."""
    yield
    reset_abort()


def peak_bytes(call: Callable[[], object]) -> tuple[int, BaseException | None]:
    """The most memory Python held while ``call`` ran (every thread), and what it raised."""
    tracemalloc.start()
    try:
        call()
    except Exception as exc:  # the caller inspects it
        raised: BaseException | None = exc
    else:
        raised = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


class _NoJournal:
    def journal(self, run_id: str, step: str, phase: str, detail: Mapping[str, Any] | None = None) -> None:
        """Nothing to keep."""


def verdict_code(action: Callable[[], object]) -> str | None:
    """The code the engine records for a step that runs ``action``."""
    bus = EventBus()
    ctx = RunContext("run-1", "A1", "production", _NoJournal(), threading.Event(), bus)
    result = Engine(bus).run(ctx, [Step("identify", lambda ctx: str(action()))])
    return result.failure.code if result.failure else None


# --- size caps and encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["content-length", "until-close"])
def test_a_2_mib_reply_is_a_bad_reply_naming_the_cap_and_is_not_held(
    serve: Callable[..., EdgeServer], framing: str
) -> None:
    body = b"[" * (2 << 20)
    server = serve(reply(200, body) if framing == "content-length" else until_closed(body))
    peak, raised = peak_bytes(lambda: Transport(server.url).request("GET", VERSION, timeout=10))
    assert isinstance(raised, DeviceProtocolError)
    assert raised.status is None and raised.endpoint == VERSION
    assert "larger than the 1 MiB allowed" in str(raised)
    assert peak < DEFAULT_CAP + (512 << 10), f"{peak} bytes held for a reply capped at 1 MiB"
    assert verdict_code(PpaClient.at(server.url).version) == "bad-reply"


def test_an_endless_chunked_reply_ends_at_the_cap(serve: Callable[..., EdgeServer]) -> None:
    server = serve(endless_chunked)
    started = time.monotonic()
    peak, raised = peak_bytes(lambda: PpaClient.at(server.url).version())
    assert isinstance(raised, DeviceProtocolError)
    assert "1 MiB" in str(raised)
    assert time.monotonic() - started < 5
    assert peak < DEFAULT_CAP + (512 << 10)


def test_a_larger_cap_where_a_reply_is_legitimately_large(serve: Callable[..., EdgeServer]) -> None:
    server = serve(reply(200, b"# log\n" * 400_000))  # 2.4 MB of audit log
    assert len(PpaClient.at(server.url).logger_read("t", "00000001")) == 2_400_000
    with pytest.raises(DeviceProtocolError, match="1 MiB"):
        PpaClient.at(server.url).status()  # the same size as any other reply: past its cap


def test_gzip_is_never_asked_for_and_refused_when_sent(serve: Callable[..., EdgeServer]) -> None:
    server = serve(reply(200, b"\x1f\x8b\x08\x00" + b"\x00" * 60, Content_Encoding="gzip"))
    with pytest.raises(DeviceProtocolError, match="encoded \\('gzip'\\); only identity") as refused:
        PpaClient.at(server.url).status()
    assert refused.value.status is None
    head = server.hits[0].lower()
    assert b"accept-encoding: identity\r\n" in head
    assert b"connection: close\r\n" in head


def test_an_unknown_transfer_coding_is_refused(serve: Callable[..., EdgeServer]) -> None:
    server = serve(reply(200, b"{}", Content_Length="", Transfer_Encoding="gzip, chunked"))
    with pytest.raises(DeviceProtocolError, match="transfer encoding 'gzip, chunked'"):
        Transport(server.url).request("GET", STATUS)


# --- deadlines ----------------------------------------------------------------------------------------------


def test_a_drip_is_cut_at_the_wall_clock_deadline(serve: Callable[..., EdgeServer]) -> None:
    server = serve(drip(HEAD_200, b"x" * 64, every=0.1))  # never silent for a whole socket timeout
    started = time.monotonic()
    with pytest.raises(DeviceTimeout, match="no answer within 1 s") as late:
        PpaClient.at(server.url, timeout=1.0).status()
    assert 0.9 < time.monotonic() - started < 2.0
    assert late.value.endpoint == STATUS


def test_a_drip_in_the_status_line_is_cut_too(serve: Callable[..., EdgeServer]) -> None:
    server = serve(drip(b"", b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 50, every=0.05))
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        Transport(server.url).request("GET", STATUS, timeout=1.0)
    assert time.monotonic() - started < 2.0


def test_a_silent_unit_times_out_at_the_request_timeout(serve: Callable[..., EdgeServer]) -> None:
    server = serve(hang)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout, match=r"no answer within 0\.5 s"):
        Transport(server.url).request("GET", STATUS, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_call_deadlines_nest_taking_the_earliest() -> None:
    now = time.monotonic()
    assert current_deadline() is None
    with call_deadline(now + 10) as outer:
        assert outer == current_deadline() == now + 10
        with call_deadline(now + 20) as later:  # a later inner deadline does not extend the outer one
            assert later == current_deadline() == now + 10
        with call_deadline(now + 5):
            assert current_deadline() == now + 5
        assert current_deadline() == now + 10
    assert current_deadline() is None
    seen: list[float | None] = []
    with call_deadline(now + 1):  # per thread: another thread is not bound by it
        worker = threading.Thread(target=lambda: seen.append(current_deadline()))
        worker.start()
        worker.join()
    assert seen == [None]


def test_a_call_deadline_bounds_a_request_with_a_longer_timeout(serve: Callable[..., EdgeServer]) -> None:
    server = serve(drip(HEAD_200, b"x" * 64, every=0.1))
    started = time.monotonic()
    with call_deadline(started + 0.6), pytest.raises(DeviceTimeout, match="by the call's deadline"):
        Transport(server.url).request("GET", STATUS, timeout=30)
    assert time.monotonic() - started < 1.5
    with call_deadline(time.monotonic() - 1), pytest.raises(DeviceTimeout):  # already passed: not sent
        Transport(server.url).request("GET", STATUS, timeout=30)
    assert len(server.hits) == 1


def test_a_shorter_own_timeout_still_applies_inside_a_call_deadline(serve: Callable[..., EdgeServer]) -> None:
    server = serve(hang)
    started = time.monotonic()
    with call_deadline(started + 30), pytest.raises(DeviceTimeout, match=r"within 0\.3 s"):
        Transport(server.url).request("GET", STATUS, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_abort_all_interrupts_a_blocked_request_and_refuses_later_ones(
    serve: Callable[..., EdgeServer], no_abort: None
) -> None:
    server = serve(hang)
    outcome: list[BaseException] = []

    def blocked() -> None:
        try:
            Transport(server.url).request("GET", STATUS, timeout=30)
        except Exception as exc:  # inspected below
            outcome.append(exc)

    worker = threading.Thread(target=blocked)
    worker.start()
    while not server.hits:  # the request is out and waiting
        time.sleep(0.01)
    stopped = time.monotonic()
    abort_all("the station is stopping")
    worker.join(5)
    assert time.monotonic() - stopped < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], DeviceUnreachable)
    assert str(outcome[0]) == "GET /api/system/status: the station is stopping"
    with pytest.raises(DeviceUnreachable, match="the station is stopping"):
        Transport(server.url).request("GET", STATUS)
    assert len(server.hits) == 1  # refused before anything was sent
    reset_abort()
    ok = serve(reply(200))
    assert Transport(ok.url).request("GET", STATUS).status_code == 200


# --- redirects and proxies ----------------------------------------------------------------------------------


def test_a_redirect_is_a_status_and_its_target_gets_no_request(
    serve: Callable[..., EdgeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = serve(reply(200))
    moved = serve(reply(302, b"", Location=target.url + STATUS))
    monkeypatch.setenv("http_proxy", target.url)  # nor is a proxy from the environment ever taken
    assert Transport(moved.url).request("GET", STATUS).status_code == 302
    with pytest.raises(DeviceProtocolError) as refused:
        PpaClient.at(moved.url).status()
    assert refused.value.status == 302
    assert target.hits == []
    assert len(moved.hits) == 2


# --- https: pinned or nothing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secure_unit() -> Iterator[SimulatedPpa]:
    with SimulatedPpa(backend_key=x25519_public_key(BACKEND_PRIVATE)) as unit:
        yield unit


def certificate_pem(url: str) -> str:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    return ssl.get_server_certificate((host, int(port)))


def fingerprint(url: str) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(certificate_pem(url))).hexdigest()


def test_an_https_unit_pinned_by_fingerprint_answers(secure_unit: SimulatedPpa) -> None:
    pin = TlsPin.of(f"sha256:{fingerprint(secure_unit.https_url)}", None)
    assert PpaClient.at(secure_unit.https_url, tls=pin).status().fls_state == 0


def test_a_wrong_fingerprint_is_refused(secure_unit: SimulatedPpa) -> None:
    with pytest.raises(DeviceUnreachable, match="TLS certificate is not the pinned one"):
        PpaClient.at(secure_unit.https_url, tls=TlsPin("ab" * 32)).status()


def test_an_https_unit_pinned_by_ca_answers_and_another_ca_is_refused(
    secure_unit: SimulatedPpa, tmp_path: Path
) -> None:
    own, other = tmp_path / "own.pem", tmp_path / "other.pem"
    own.write_text(certificate_pem(secure_unit.https_url))  # self-signed: its own CA
    other.write_bytes(https_credentials("my.ence.do")[0])
    assert PpaClient.at(secure_unit.https_url, tls=TlsPin(ca_file=str(own))).status().fls_state == 0
    with pytest.raises(DeviceUnreachable, match="not signed by the pinned CA"):
        PpaClient.at(secure_unit.https_url, tls=TlsPin(ca_file=str(other))).status()


def test_an_unpinned_https_transport_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="needs a pinned certificate"):
        Transport("https://127.0.0.1:8443")
    with pytest.raises(ValueError, match="needs an https:// URL"):
        Transport("http://127.0.0.1:8443", tls=TlsPin("ab" * 32))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://127.0.0.1", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:secret@127.0.0.1", "credentials"),
        ("http://127.0.0.1/?a=b", "query"),
        ("http://127.0.0.1/#top", "fragment"),
        ("http:///path", "no host"),
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1/a b", "spaces"),
    ],
)
def test_unusable_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        Transport(url)
    assert "secret" not in str(refused.value)


def test_a_pacer_spaces_one_units_requests() -> None:
    """150 ms between requests to one unit by default (firmware 1.2.2 hangs under load: devices/pacing.py)."""
    with SimulatedPpa(backend_key=x25519_public_key(BACKEND_PRIVATE)) as unit:
        paced = Transport(unit.http_url, pacer=Pacer(0.1))
        began = time.monotonic()
        for _ in range(4):
            assert paced.request("GET", "/api/system/status").status_code == 200
        assert time.monotonic() - began >= 0.3  # three gaps of at least 0.1 s


def test_threads_sharing_a_pacer_take_turns() -> None:
    pacer, starts = Pacer(0.05), []
    lock = threading.Lock()

    def one() -> None:
        with pacer.turn(), lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(starts))


def test_spacing_defaults_protect_real_units_only() -> None:
    assert FixtureContext(request_spacing=None).spacing() == UNIT_SPACING == 0.15
    assert FixtureContext(request_spacing=None).spacing(fast_simulator=True) == 0.0
    assert FixtureContext(request_spacing=0.3).spacing(fast_simulator=True) == 0.3  # said in station.toml
    assert FixtureContext().spacing() == 0.0  # built by hand (tests, tools): unpaced
    with pytest.raises(ValueError, match="negative"):
        Pacer(-1)
