"""A PostgreSQL server for tests and benchmarks: the one ``STATION_TEST_PG`` names, or a throwaway cluster.

Example::

    with pg_server() as admin_url:                    # None when neither is available
        url = create_database(admin_url, "line_test_1")
        ...
        drop_database(admin_url, "line_test_1")

    def test_lookup(line_url: str) -> None:           # fixtures: pg_admin, line_url, station_role
        ...

A throwaway cluster is ``initdb`` and a ``postgres`` child process in a fresh temporary folder, listening
on 127.0.0.1 at a free port with no Unix socket, ``trust`` authentication for loopback only, and fsync
off (the data dies with the test run). PostgreSQL refuses to run as root, so under root the cluster
belongs to the ``postgres`` system user (created by the server package). The server is our child and is
told to shut down when we die (``setpriv --pdeathsig``): a test run killed by a timeout leaves no server
running. At the end it gets SIGINT (fast shutdown) and the folder is removed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from station.records.store.admin import grant_station_role, migrate_target, set_test_line
from station.records.store.postgres import PostgresStore
from tests.requirements import missing

ENV = "STATION_TEST_PG"
SERVER_USER = "postgres"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``postgres`` (PATH first, then Debian's versioned folders)."""
    found = shutil.which("initdb")
    if found is not None and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    return None


def unavailable_reason() -> str | None:
    """Why no server can be had here, or None if ``pg_server`` will yield one."""
    if os.environ.get(ENV):
        return None
    if server_binaries() is None:
        return f"no PostgreSQL: set {ENV} to a server URL, or install the server (apt-get install postgresql)"
    if os.geteuid() == 0 and not _user_exists(SERVER_USER):
        return f"running as root and there is no '{SERVER_USER}' user to run a throwaway PostgreSQL cluster"
    return None


@contextmanager
def pg_server() -> Iterator[str | None]:
    """An admin (superuser) URL: ``$STATION_TEST_PG``, else a throwaway cluster, else None."""
    if os.environ.get(ENV):
        yield os.environ[ENV]
        return
    if unavailable_reason() is not None:
        yield None
        return
    with _throwaway_cluster() as url:
        yield url


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the admin URL's server; returns its URL (same credentials)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def with_database(url: str, name: str, *, user: str | None = None) -> str:
    """``url`` pointing at database ``name`` (and, given, as ``user`` without a password)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    if user is not None:
        info["user"] = user
        info.pop("password", None)
    parts = {key: value for key, value in info.items() if value is not None}
    host = parts.pop("host", "127.0.0.1")
    port = parts.pop("port", "5432")
    who = parts.pop("user", "postgres")
    password = parts.pop("password", None)
    dbname = parts.pop("dbname")
    auth = who if password is None else f"{who}:{password}"
    query = "&".join(f"{key}={value}" for key, value in parts.items())
    return f"postgresql://{auth}@{host}:{port}/{dbname}" + (f"?{query}" if query else "")


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    binaries = server_binaries()
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="station-pg-"))
    data = folder / "data"
    user = SERVER_USER if os.geteuid() == 0 else None
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    try:
        _run(user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8", "--locale", "C")  # fmt: skip
        with (folder / "log").open("wb") as log:
            server = subprocess.Popen(
                [*_as_child(user), str(binaries / "postgres"), "-D", str(data), "-c", "fsync=off",
                 "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}", "-c", "unix_socket_directories="],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        try:
            _wait_until_ready(url, server, folder / "log")
            yield url
        finally:
            server.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, disconnect, stop
            server.wait(60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_child(user: str | None) -> list[str]:
    """``setpriv`` (util-linux) as the server user, with SIGINT (fast shutdown) when the test process
    dies, even by SIGKILL: a test run killed by a timeout leaves no server behind."""
    if shutil.which("setpriv") is None:
        return ["runuser", "-u", user, "--"] if user is not None else []
    switch = ["--reuid", user, "--regid", user, "--init-groups"] if user is not None else []
    return ["setpriv", *switch, "--pdeathsig", "INT", "--"]


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.05)


def _run(user: str | None, *command: str) -> None:
    result = subprocess.run(
        list(command), capture_output=True, text=True, check=False, timeout=120, user=user
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:1])} failed ({result.returncode}): {result.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --- pytest fixtures (imported by tests/conftest.py) -------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """A superuser URL of a PostgreSQL server for the whole session (skip, or fail under CI, without)."""
    reason = unavailable_reason()
    if reason is not None:
        missing(reason)
    with pg_server() as url:
        assert url is not None
        yield url


@pytest.fixture
def line_url(pg_admin: str) -> Iterator[str]:
    """A fresh line database, migrated to the current schema; dropped after the test.

    It is a test line (``line_settings``): the tests' records are of simulated units, which any other
    line refuses (tests/records/test_sync.py checks that refusal on a line switched back).
    """
    name = f"line_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_admin, name)
    migrate_target(url)
    set_test_line(PostgresStore(url), True)
    yield url
    drop_database(pg_admin, name)


@pytest.fixture
def station_role(pg_admin: str, line_url: str) -> Iterator[str]:
    """A login role with the stations' GRANTs on ``line_url``; yields the URL that logs in as it."""
    role = f"station_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    grant_station_role(PostgresStore(line_url), role)
    dbname = psycopg.conninfo.conninfo_to_dict(line_url)["dbname"]
    assert isinstance(dbname, str)  # line_url names its database (create_database)
    yield with_database(line_url, dbname, user=role)
    with psycopg.connect(line_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with psycopg.connect(pg_admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
