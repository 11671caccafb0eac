"""A ZPL label printer on 127.0.0.1 for tests and demos: it keeps every label document it receives.

Example::

    with FakePrinter() as printer:
        ZplPrinter("127.0.0.1", printer.port).send(zpl)
        assert printer.documents == [zpl]
        printer.behave(Behaviour.REFUSE)          # from now on nothing listens: connections are refused
        printer.status = PrinterFlags(paper_out=True)

Behaves like a Zebra on its raw port: reads until the client's end, answers each ``~HS`` with the three
``<STX>...<ETX><CR><LF>`` host status strings (unless ``answers_status`` is False, as printers that do not
implement it, or a Zebra that is out of media), keeps what the connection sent besides ``~HS`` as one
document (byte for byte: tests compare it with the ZPL they expect), then closes. Other
behaviours: ``STALL`` (accepts, never reads or answers, until the fake closes), ``RESET`` (accepts, then
resets the connection), ``REFUSE`` (the port stays bound by a socket that does not listen, so a connection
is refused and no other program can take the port meanwhile).
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from types import TracebackType

DEADLINE_S = 60.0  # for waiting on conditions; not a speed requirement


class Behaviour(Enum):
    PRINT = "print"
    STALL = "stall"
    RESET = "reset"
    REFUSE = "refuse"


@dataclass(frozen=True)
class PrinterFlags:
    """The ``~HS`` flags the fake reports."""

    paper_out: bool = False
    paused: bool = False
    head_open: bool = False
    ribbon_out: bool = False
    thermal_transfer: bool = False

    def host_status(self) -> bytes:
        def flag(value: bool) -> str:
            return "1" if value else "0"

        strings = (
            f"030,{flag(self.paper_out)},{flag(self.paused)},0240,000,0,0,0,000,0,0,0",
            f"001,0,{flag(self.head_open)},{flag(self.ribbon_out)},{flag(self.thermal_transfer)},2,6,0,"
            "00000000,1,000",
            "1234,0",
        )
        return b"".join(b"\x02" + text.encode("ascii") + b"\x03\r\n" for text in strings)


class FakePrinter:
    """A threaded TCP server on 127.0.0.1 at a free port (``port``); use it as a context manager."""

    def __init__(self, behaviour: Behaviour = Behaviour.PRINT) -> None:
        self.status = PrinterFlags()
        self.answers_status = True
        self.behaviour = Behaviour.PRINT
        self.documents: list[str] = []
        self.connections = 0
        self.status_queries = 0
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._wake_read, self._wake_write = socket.socketpair()
        self._listener: socket.socket | None = _bound(0, listen=True)
        self._reserved: socket.socket | None = None
        self.port: int = self._listener.getsockname()[1]
        self._loop = self._start(self._serve, self._listener)
        self.behave(behaviour)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakePrinter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def behave(self, behaviour: Behaviour) -> None:
        """How the next connections are treated; REFUSE stops listening, anything else listens again."""
        with self._changed:
            self.behaviour = behaviour
        if (behaviour is Behaviour.REFUSE) == (self._listener is not None):
            self._switch_listening(behaviour is not Behaviour.REFUSE)

    def wait_documents(self, count: int) -> list[str]:
        """The documents once at least ``count`` have arrived (waits on a condition, never sleeps)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.documents) >= count, timeout=DEADLINE_S):
                raise AssertionError(f"{len(self.documents)} label documents arrived, expected {count}")
            return list(self.documents)

    def close(self) -> None:
        self._closing.set()
        self._stop_loop()
        for reserved in (self._reserved, self._wake_read, self._wake_write):
            if reserved is not None:
                reserved.close()
        with self._changed:
            for connection in self._open:
                _shutdown(connection)
        for thread in self._threads:
            thread.join(DEADLINE_S)

    # --- serving ---------------------------------------------------------------------------------------

    def _start(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _switch_listening(self, listen: bool) -> None:
        self._stop_loop()
        if listen:
            assert self._reserved is not None
            self._reserved.close()
            self._reserved, self._listener = None, _bound(self.port, listen=True)
            self._loop = self._start(self._serve, self._listener)
        else:
            self._reserved = _bound(self.port, listen=False)

    def _stop_loop(self) -> None:
        if self._listener is None:
            return
        self._wake_write.send(b"x")
        self._loop.join(DEADLINE_S)
        self._wake_read.recv(16)
        self._listener.close()
        self._listener = None

    def _serve(self, listener: socket.socket) -> None:
        while True:
            readable, _, _ = select.select([listener, self._wake_read], [], [])
            if self._wake_read in readable:
                return
            connection, _ = listener.accept()
            with self._changed:
                self.connections += 1
                self._open.add(connection)
                behaviour = self.behaviour
            self._start(self._handle, connection, behaviour)

    def _handle(self, connection: socket.socket, behaviour: Behaviour) -> None:
        try:
            if behaviour is Behaviour.PRINT:
                self._print(connection)
            elif behaviour is Behaviour.STALL:
                self._closing.wait()
            elif behaviour is Behaviour.RESET:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # the client went away or the fake is closing: nothing to record
        finally:
            with self._changed:
                self._open.discard(connection)
            connection.close()

    def _print(self, connection: socket.socket) -> None:
        data, answered = b"", 0
        while chunk := connection.recv(4096):
            data += chunk
            while data.count(b"~HS") > answered:  # counted over all data: a query may span two chunks
                answered += 1
                self._answer_status(connection)
        with self._changed:
            document = data.replace(b"~HS", b"").decode("utf-8")
            if document:
                self.documents.append(document)
            self._changed.notify_all()

    def _answer_status(self, connection: socket.socket) -> None:
        with self._changed:
            self.status_queries += 1
        if self.answers_status:
            connection.sendall(self.status.host_status())


def _bound(port: int, *, listen: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    if listen:
        sock.listen(16)
    return sock


def _shutdown(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the client
        connection.shutdown(socket.SHUT_RDWR)
