"""A simulated fixture controller on a pseudo-terminal, speaking the real line protocol.

>>> from station.fixtures.controller import FixtureController
>>> with SimulatedController(slots=4, on_power=lambda slot, on: print("slot", slot, "power", on)) as board:
...     controller = FixtureController.open(board.url); controller.power(2, on=False)   # the real driver
...     controller.led(2, "red"); controller.close(); board.leds[2]
slot 2 power False
'RED'
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable

IDN = "STATION-SIM,FIXTURE-CONTROLLER,0001,1.0"
COLOURS = ("OFF", "GREEN", "RED", "YELLOW")
POLL = 0.05  # seconds; how quickly the serving thread notices stop()


class SimulatedController:
    """A controller board with ``slots`` power switches and lamps, a lid and a button."""

    def __init__(self, slots: int = 8, on_power: Callable[[int, bool], None] | None = None) -> None:
        self.slots = slots
        self.on_power = on_power
        self.power = dict.fromkeys(range(1, slots + 1), True)
        self.leds = dict.fromkeys(range(1, slots + 1), "OFF")
        self.lid_closed = True
        self.button = False
        self.silent = False
        self.delay = 0.0
        self.transcript: list[tuple[str, str]] = []
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"serial://{os.ttyname(self._slave)}"

    def start(self) -> SimulatedController:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: the driver sees exactly what the board sends
        self._thread = threading.Thread(target=self._serve, name="sim-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> SimulatedController:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds after some exchange (tests wait on this, never sleep)."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    # --- serving ---------------------------------------------------------------------------------------

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], POLL)
            if not ready:
                continue
            try:
                pending += os.read(self._master, 1024)
            except OSError:  # the driver side closed and reopened the port
                continue
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                self._exchange(raw.decode("ascii", errors="replace").strip())

    def _exchange(self, request: str) -> None:
        if not request or self.silent:
            return
        reply = self.answer(request)
        if self.delay:
            self._stop.wait(self.delay)
        with self.changed:  # recorded before it is sent: a driver holding its reply finds it here
            self.transcript.append((request, reply))
            self.changed.notify_all()
        os.write(self._master, reply.encode("ascii") + b"\n")

    def answer(self, request: str) -> str:
        """The reply line to one request line (the board's firmware, in one function)."""
        words = request.split()
        command = words[0].upper()
        if command == "*IDN?" and len(words) == 1:
            return IDN
        if command == "LID?" and len(words) == 1:
            return "CLOSED" if self.lid_closed else "OPEN"
        if command == "BTN?" and len(words) == 1:
            return "PRESSED" if self.button else "RELEASED"
        if command in ("PWR", "LED"):
            return self._slot_command(command, words[1:])
        return f"ERR 1 unknown command {words[0]}"

    def _slot_command(self, command: str, args: list[str]) -> str:
        if len(args) != 2 or not args[0].isdigit():
            return f"ERR 2 usage: {command} <slot> <value>"
        slot, value = int(args[0]), args[1].upper()
        if slot not in self.power:
            return f"ERR 3 no slot {slot} (1..{self.slots})"
        if command == "LED":
            if value not in COLOURS:
                return f"ERR 2 colour must be one of {' '.join(COLOURS)}"
            self.leds[slot] = value
            return "OK"
        if value not in ("ON", "OFF"):
            return "ERR 2 power must be ON or OFF"
        on = value == "ON"
        if self.power[slot] != on and self.on_power is not None:
            self.on_power(slot, on)
        self.power[slot] = on
        return "OK"
