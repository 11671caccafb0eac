"""A simulated ZPL label printer on 127.0.0.1: the demo's printer, so ``station gui --demo`` prints labels.

>>> from station.labels.printer import ZplPrinter, parse_address
>>> with SimulatedPrinter() as printer:                # ``~HS``: paper in, not paused, head closed
...     ZplPrinter(*parse_address(printer.url)).send("^XA^FDPPA^FS^XZ")
...     printer.labels                                 # label documents received (and dropped)
1
"""

from __future__ import annotations

import socket
import socketserver
import threading
from types import TracebackType

READY_STATUS = (  # ~HS: paper out 0, paused 0, ... head open 0, ribbon out 0
    "030,0,0,0240,000,0,0,0,000,0,0,0",
    "001,0,0,0,0,2,6,0,00000000,1,000",
    "1234,0",
)
STATUS_QUERY = b"~HS"
EXCHANGE_TIMEOUT = 10.0  # seconds a connection may stay silent


class _Exchange(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(EXCHANGE_TIMEOUT)
        received, answered = b"", False
        try:
            while chunk := connection.recv(65536):
                received += chunk
                if not answered and received.startswith(STATUS_QUERY):
                    answered = True
                    connection.sendall(
                        b"".join(b"\x02" + line.encode() + b"\x03\r\n" for line in READY_STATUS)
                    )
                    received = received[len(STATUS_QUERY) :]
        except OSError:
            return  # the station gave up on this label (its own timeout says so)
        if received.strip():
            self.server.printed()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Exchange)
        self.labels = 0
        self._lock = threading.Lock()

    def printed(self) -> None:
        with self._lock:
            self.labels += 1


class SimulatedPrinter:
    """Serves in a daemon thread from construction until ``close``."""

    def __init__(self) -> None:
        self._server = _Server()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def labels(self) -> int:
        return self._server.labels

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> SimulatedPrinter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
