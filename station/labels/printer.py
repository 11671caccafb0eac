r"""A ZPL label printer on its raw TCP port (9100): one connection per label, asking ``~HS`` status first.

>>> parse_address("tcp://127.0.0.1")
('127.0.0.1', 9100)
>>> reply = b"\x02030,1,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n"
>>> HostStatus.parse(reply).problem()                  # paper out: print nothing, say why
'out of paper'
"""

from __future__ import annotations

import errno
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from station.core.errors import LabelError

DEFAULT_PORT = 9100  # the raw ("JetDirect") printing port
STX, ETX = b"\x02", b"\x03"
_STATUS_LINE = re.compile(rb"\x02([^\x03]*)\x03")
_SILENT_STATUS = (
    ": a Zebra stays silent while out of paper or ribbon or with its head open;"
    " for a printer that never answers ~HS set [label] check_status = false"
)
_SILENT_AFTER_LABEL = ": it has the label but did not confirm it; look before reprinting"
_Done = Callable[[bytes, bytes], bool]  # (everything read so far, the last chunk) -> stop reading?
READ_LIMIT = 4096  # bytes a printer may send on one connection: a ~HS status is about 80


class _TooMuch(Exception):
    """A printer sent more than ``READ_LIMIT`` bytes where a short status or nothing was expected."""


def parse_address(text: str) -> tuple[str, int]:
    """``(host, port)`` from ``tcp://host:port`` (port 9100 when left out); LabelError otherwise."""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "tcp" or not parts.hostname or port == -1 or parts.path not in ("", "/"):
        raise LabelError(f"printer must be tcp://host:port (e.g. tcp://192.0.2.10:9100), not {text!r}")
    return parts.hostname, port or DEFAULT_PORT


@dataclass(frozen=True)
class HostStatus:
    """The flags of a ``~HS`` reply that decide whether a label can print now."""

    paper_out: bool
    paused: bool
    buffer_full: bool
    head_open: bool
    ribbon_out: bool
    thermal_transfer: bool

    @classmethod
    def parse(cls, reply: bytes) -> HostStatus:
        """Read string 1 (``aaa,b,c,dddd,eee,f,...``) and 2 (``mmm,n,o,p,q,...``); ValueError if bad."""
        lines = [line.decode("ascii", "replace").split(",") for line in _STATUS_LINE.findall(reply)]
        if len(lines) < 2 or len(lines[0]) < 6 or len(lines[1]) < 5:
            raise ValueError("not a ~HS reply")
        first, second = lines[0], lines[1]
        return cls(
            paper_out=first[1] == "1",
            paused=first[2] == "1",
            buffer_full=first[5] == "1",
            head_open=second[2] == "1",
            ribbon_out=second[3] == "1",
            thermal_transfer=second[4] == "1",
        )

    def problem(self) -> str | None:
        """What stops printing, in words, or None."""
        faults = (
            (self.paper_out, "out of paper"),
            (self.paused, "paused"),
            (self.head_open, "print head open"),
            (self.ribbon_out and self.thermal_transfer, "out of ribbon"),
            (self.buffer_full, "receive buffer full"),
        )
        words = [text for flag, text in faults if flag]
        return ", ".join(words) if words else None


class ZplPrinter:
    """One ZPL printer at ``host:port``; safe to share, each call opens its own connection."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0, check_status: bool = True) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.check_status = check_status

    def __repr__(self) -> str:
        return f"ZplPrinter({self.address!r}, timeout={self.timeout:g}, check_status={self.check_status})"

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def send(self, zpl: str) -> None:
        """Print one label document; returns once the printer has taken all of it."""
        deadline = time.monotonic() + self.timeout
        with self._connection(deadline) as connection:
            if self.check_status:
                self._refuse_if_faulty(self._query_status(connection, deadline))
            with self._faults("sending the label"):
                connection.settimeout(_left(deadline))
                connection.sendall(zpl.encode("utf-8"))
                connection.shutdown(socket.SHUT_WR)
            with self._faults("after the label", silent=_SILENT_AFTER_LABEL):
                _read_until(connection, deadline, lambda data, chunk: not chunk)

    def host_status(self) -> HostStatus:
        """Ask ``~HS`` on a connection of its own."""
        deadline = time.monotonic() + self.timeout
        with self._connection(deadline) as connection:
            return self._query_status(connection, deadline)

    @contextmanager
    def _connection(self, deadline: float) -> Iterator[socket.socket]:
        with self._faults("connecting"):
            connection = socket.create_connection((self.host, self.port), timeout=_left(deadline))
        with connection:
            yield connection

    def _query_status(self, connection: socket.socket, deadline: float) -> HostStatus:
        with self._faults("asking its ~HS status", silent=_SILENT_STATUS):
            connection.settimeout(_left(deadline))
            connection.sendall(b"~HS")
            reply = _read_until(connection, deadline, lambda data, chunk: data.count(ETX) >= 3 or not chunk)
        try:
            return HostStatus.parse(reply)
        except ValueError:
            raise self._error(f"answered ~HS with {reply[:40]!r}, not a host status") from None

    def _refuse_if_faulty(self, status: HostStatus) -> None:
        problem = status.problem()
        if problem is not None:
            raise self._error(f"is {problem}; label not sent")

    def _error(self, what: str) -> LabelError:
        return LabelError(f"printer {self.address} {what}", printer=self.address)

    @contextmanager
    def _faults(self, doing: str, *, silent: str = "") -> Iterator[None]:
        """Socket faults as LabelErrors naming the printer, the cause and what we were ``doing``;
        ``silent`` is what a timeout means at this point."""
        try:
            yield
        except _TooMuch:
            raise self._error(
                f"sent more than {READ_LIMIT} bytes ({doing}); not a printer's status"
            ) from None
        except ConnectionRefusedError:
            raise self._error("refused the connection") from None
        except TimeoutError:
            raise self._error(f"did not answer within {self.timeout:g} s ({doing}){silent}") from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            raise self._error(f"reset the connection ({doing})") from None
        except socket.gaierror as exc:
            raise self._error(f"cannot be found: {exc.strerror}") from None
        except OSError as exc:
            if exc.errno == errno.ENOTCONN:  # the connection was there and is gone: the peer reset it
                raise self._error(f"reset the connection ({doing})") from None
            raise self._error(f"cannot be reached: {exc.strerror or exc} ({doing})") from None


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; TimeoutError when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _read_until(connection: socket.socket, deadline: float, done: _Done) -> bytes:
    """Read until ``done(data, last_chunk)`` (an empty chunk is the printer's close); TimeoutError at the
    deadline however slowly the bytes come (each wait is what is left of it), ``_TooMuch`` past
    ``READ_LIMIT`` bytes."""
    data = b""
    while True:
        connection.settimeout(_left(deadline))
        chunk = connection.recv(READ_LIMIT + 1 - len(data))
        data += chunk
        if done(data, chunk):
            return data
        if len(data) > READ_LIMIT:
            raise _TooMuch
