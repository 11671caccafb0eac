"""Station CPU per request on the plain ``http://`` path, three ways: urllib3, the hand-written parser, h11.

Example::

    python -m bench.transport                 # 2000 status requests a way, in 5 interleaved rounds
    python -m bench.transport --requests 500 --rounds 3

A simulated unit (``fast`` timing) answers from a child process (``bench.simhost``), so this process's CPU
(``time.process_time()``) is the station's own. The ways: ``urllib3`` is ``devices/transport.py`` as
it was at ``URLLIB3`` (every request through urllib3, before issue 19; ``https://`` still takes that
road); ``hand-written`` is the parser it held at ``HANDWRITTEN`` (both loaded from git history: run inside
the repository); ``h11`` is today's ``devices/plainhttp.py``. The best round of each way is reported (the
machine is shared), with what the difference means per unit (``REQUESTS_PER_UNIT`` requests beside
``PBKDF2_PER_UNIT`` of key stretching).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from types import ModuleType

from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.simhost import SimHost
from station.devices import plainhttp
from station.devices.transport import Transport, encoding_problem, read_capped

URLLIB3 = "1a47263"  # the last commit whose transport.py sent plain HTTP through urllib3
HANDWRITTEN = "e029d96"  # the last commit whose transport.py parsed plain HTTP by hand
REQUESTS_PER_UNIT = 24
PBKDF2_PER_UNIT = 0.14  # seconds of station CPU per unit that no transport choice touches
PATH = "/api/system/status"
REPLY = (  # the simulated unit's reply to PATH, byte for byte
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 148\r\nX-Simulated-Unit: 1\r\n"
    b'Connection: close\r\n\r\n{"ctx":0,"uptime":0,"temp":31.5,"fls_state":0,"inited":false,"https":true,'
    b'"hostname":"my.ence.do","tts":false,"storage":["8388608:-","113246208:-"]}'
)
REPO = Path(__file__).resolve().parents[1]


def transport_at(commit: str) -> ModuleType:
    """``devices/transport.py`` as of ``commit``, imported under a name of its own."""
    shown = subprocess.run(  # noqa: S603 - git, our own repository
        ["git", "show", f"{commit}:station/devices/transport.py"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if shown.returncode != 0:  # a shallow clone, or a copy without .git
        raise SystemExit(
            f"bench.transport compares with devices/transport.py of commit {commit}, which this "
            "checkout does not hold: run it in a full clone (git fetch --unshallow)"
        )
    source = shown.stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"transport_{commit}.py"
        path.write_bytes(source)
        spec = importlib.util.spec_from_file_location(f"bench_transport_{commit}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return module


def per_request(call: Callable[[], object], count: int) -> float:
    """CPU seconds of this process per call (the unit's CPU is in the child)."""
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count


def measure(url: str, requests: int, rounds: int) -> dict[str, float]:
    """The best per-request CPU of each way over ``rounds`` interleaved rounds of ``requests`` each."""
    transports = {  # built once each, as a slot's is (building one checks its URL)
        "urllib3": transport_at(URLLIB3).Transport(url),
        "hand-written": transport_at(HANDWRITTEN).Transport(url),
        "h11": Transport(url),
    }
    ways: dict[str, Callable[[], object]] = {
        name: partial(transport.request, "GET", PATH, timeout=10) for name, transport in transports.items()
    }
    best = dict.fromkeys(ways, float("inf"))
    for call in ways.values():
        per_request(call, 50)  # warm-up: imports, caches, the watchdog thread
    for _ in range(rounds):
        for name, call in ways.items():
            best[name] = min(best[name], per_request(call, requests))
    return best


class _Canned:
    """A socket that answers ``REPLY`` (what the simulated unit sends to a status request), then closes."""

    def __init__(self) -> None:
        self._pieces = [REPLY, b""]

    def recv(self, size: int) -> bytes:
        return self._pieces.pop(0)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(REPLY))  # type: ignore[arg-type]


def framing_only(count: int, rounds: int) -> dict[str, float]:
    """CPU per request of the framing alone (request bytes, reply head and body from memory): the only
    code that differs between the hand-written and the h11 path, free of socket and scheduler noise."""
    old = transport_at(HANDWRITTEN)

    def handwritten() -> None:
        old._request_head("GET", PATH, host="127.0.0.1", port=8080, body=None, headers=None)
        reply = _Canned().makefile("rb")
        status, fields = old._read_head(reply)
        old.encoding_problem(fields, 1 << 20)
        old.read_capped(old._body(reply, "GET", status, fields), 1 << 20)

    def h11() -> None:
        client, _ = plainhttp.start("GET", PATH, host="127.0.0.1", port=8080, body=None, headers=None)
        reader = plainhttp.ReplyReader(client, _Canned())  # type: ignore[arg-type]
        _, fields = reader.head()
        encoding_problem(fields, 1 << 20)
        read_capped(reader.body(), 1 << 20)

    ways = {"hand-written": handwritten, "h11": h11}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, call in ways.items():
            best[name] = min(best[name], per_request(call, count))
    return best


def report(best: dict[str, float], requests: int, rounds: int) -> str:
    base = best["hand-written"]
    lines = [
        f"Plain-HTTP CPU per request: GET {PATH} to a simulated unit in a child process,",
        f"  best of {rounds} rounds of {requests} requests a way; {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}",
    ]
    for name, seconds in best.items():
        lines.append(f"  {name:<14}{seconds * 1e6:8.1f} µs/request   {seconds / base:5.2f} x hand-written")
    lines.append(_per_unit(best))
    return "\n".join(lines)


def report_framing(best: dict[str, float], count: int, rounds: int) -> str:
    lines = [f"Framing alone (no sockets), best of {rounds} rounds of {count}:"]
    for name, seconds in best.items():
        lines.append(f"  {name:<14}{seconds * 1e6:8.1f} µs/request")
    lines.append(_per_unit(best))
    return "\n".join(lines)


def _per_unit(best: dict[str, float]) -> str:
    extra = (best["h11"] - best["hand-written"]) * REQUESTS_PER_UNIT
    return (
        f"  h11 - hand-written per unit ({REQUESTS_PER_UNIT} requests): {extra * 1e3:+.2f} ms "
        f"= {extra / PBKDF2_PER_UNIT:+.1%} of {PBKDF2_PER_UNIT} s PBKDF2 per unit"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transport", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests a way per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (the best is kept)")
    args = parser.parse_args(argv)
    key = x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with SimHost(1, backend_key=key, timing="fast") as host:
        best = measure(host.urls[0], args.requests, args.rounds)
    print(report(best, args.requests, args.rounds), flush=True)
    framing = 10 * args.requests
    print(report_framing(framing_only(framing, args.rounds), framing, args.rounds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
