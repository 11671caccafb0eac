"""Serving the dashboard (uvicorn): localhost by default; any other address needs TLS and a login.

>>> listen_address("127.0.0.1:8080"), is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
(('127.0.0.1', 8080), True, False)
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from station.core.errors import StationError


@dataclass(frozen=True)
class Tls:
    certificate: Path
    key: Path


def listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StationError(f"--listen wants HOST:PORT, e.g. 127.0.0.1:8080, not {text[:60]!r}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, tls: Tls | None, accounts: Path | None) -> None:
    """Beyond localhost the pages travel a network: refuse to listen there without TLS and a login."""
    if is_loopback(host):
        return
    if tls is None or accounts is None:
        raise StationError(
            f"listening on {host} (not localhost) needs --tls-cert, --tls-key and --accounts "
            "(docs/dashboard.md)"
        )


def config(app: ASGIApp, host: str, port: int, tls: Tls | None = None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        ssl_certfile=None if tls is None else str(tls.certificate),
        ssl_keyfile=None if tls is None else str(tls.key),
        server_header=False,
    )


def serve(app: ASGIApp, host: str, port: int, tls: Tls | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    uvicorn.Server(config(app, host, port, tls)).run()


class Background:
    """The dashboard served from a thread (tests and the bench): ``with Background(app) as url: ...``."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = uvicorn.Server(config(app, host, port))
        self.thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise StationError("the dashboard did not start")
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
