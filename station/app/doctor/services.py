"""What the station talks to over the network: the backend, the line database, the printer, the Companion
Service. Each is asked once, with a short timeout, the way the station itself will ask it.

>>> backend(BackendSection(kind="remote", url="http://factory.example"), {}, 1.0).fix
'Set [backend] url to the https:// address of the factory or Encedo service.'
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import requests

from station.app.doctor.result import Check
from station.core.config import BackendSection, LabelSection, StationConfig
from station.core.errors import StationError
from station.core.text import printable
from station.fixtures.companion import ReaderHub
from station.fixtures.registry import FixtureContext, tls_pin
from station.labels.printer import ZplPrinter, parse_address
from station.records.store.migrate import latest, postgres_version
from station.records.store.postgres import PostgresStore, redact

FIX_BACKEND = (
    "Check the PC's network and proxy settings, the [backend] url, and that the service's certificate "
    "is trusted (REQUESTS_CA_BUNDLE names a private CA)."
)
FIX_LINE = "Start the line database or correct [store] line (host, port, user, database, password)."
FIX_PRINTER = "Switch the printer on, check its cable and address ([label] printer), and run again."
FIX_PRINTER_FAULT = "Clear the fault at the printer (paper, ribbon, head, pause) and run again."
FIX_COMPANION = "Start the Companion Service on this PC (or correct the fixture's url) and run again."


def backend(section: BackendSection, environ: Mapping[str, str], timeout: float) -> Check:
    """A remote backend answers an HTTPS request (any HTTP status: TLS and the service work)."""
    name = "backend"
    if section.kind != "remote":
        return Check(name, True, "local backend: the factory keys are on this PC, nothing to reach")
    url = section.url or ""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        return Check(
            name,
            False,
            f"[backend] url {url!r} is not https://",
            "Set [backend] url to the https:// address of the factory or Encedo service.",
        )
    verify: bool | str = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True
    try:
        with requests.Session() as session:
            reply = session.get(url, timeout=timeout, verify=verify, allow_redirects=False)
            reply.close()
    except requests.exceptions.SSLError as exc:
        return Check(name, False, f"{url}: TLS refused ({_first_line(exc)})", FIX_BACKEND)
    except requests.RequestException as exc:
        return Check(name, False, f"{url} does not answer ({_first_line(exc)})", FIX_BACKEND)
    over = "TLS" if parts.scheme == "https" else "plain HTTP on this machine"
    return Check(name, True, f"{url} answers over {over} (HTTP {reply.status_code})")


def line_database(url: str, timeout: float) -> Check:
    """The line database answers and its schema is the one this software needs."""
    name = "line database"
    store = PostgresStore(url, connect_timeout=timeout, check_schema=False)
    try:
        with store.connect() as connection:
            version = postgres_version(connection)
    except StationError as exc:
        return Check(name, False, printable(redact(str(exc))), FIX_LINE)
    if version != latest("postgres"):
        return Check(
            name,
            False,
            f"{store.name} has schema version {version}, this software needs {latest('postgres')}",
            f"Run `station records migrate --store {store.name}` as the database owner.",
        )
    return Check(name, True, f"{store.name} answers, schema version {version} is current")


def printer(section: LabelSection, timeout: float) -> Check:
    """The label printer answers ``~HS`` and reports no fault (or, without ``check_status``, connects)."""
    name = "printer"
    try:
        host, port = parse_address(section.printer)
        device = ZplPrinter(host, port, timeout=min(timeout, section.timeout))
        if not section.check_status:
            device.check_status = False
            with _connected(host, port, timeout):
                pass
            return Check(name, True, f"{device.address} accepts connections (check_status = false)")
        problem = device.host_status().problem()
    except StationError as exc:
        return Check(name, False, printable(exc), FIX_PRINTER)
    except OSError as exc:
        return Check(name, False, f"printer {section.printer}: {exc.strerror or exc}", FIX_PRINTER)
    if problem is not None:
        return Check(name, False, f"printer {device.address} is {problem}", FIX_PRINTER_FAULT)
    return Check(name, True, f"printer {device.address} answers ~HS with no fault")


def companions(config: StationConfig) -> Iterator[Check]:
    """Each Companion Service the ``companion`` fixtures name answers its reader list."""
    context = FixtureContext(config_path=config.path or "station.toml")
    seen: set[str] = set()
    for fixture in config.fixtures:
        if fixture.kind != "companion" or not fixture.url or fixture.url in seen:
            continue
        seen.add(fixture.url)
        name = f"companion {fixture.url}"
        try:
            hub = ReaderHub(fixture.url.rstrip("/"), tls=tls_pin(fixture, context))
            hub.present("doctor")
        except (StationError, ValueError, OSError) as exc:
            yield Check(name, False, printable(exc), FIX_COMPANION)
            continue
        trouble = hub.trouble()
        if trouble is not None:
            yield Check(name, False, printable(trouble), FIX_COMPANION)
        else:
            yield Check(name, True, f"the Companion Service at {fixture.url} lists its readers")


def _connected(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


def _first_line(exc: BaseException) -> str:
    text = printable(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__
