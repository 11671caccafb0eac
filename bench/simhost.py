"""Simulated units in a child process that swaps a unit on command, so the station's CPU is measured alone.

Example::

    with SimHost(4, backend_key=public, timing="fast") as host:
        host.urls                     # one http://127.0.0.1:PORT per unit, slots 0..3
        host.replug(2)                # slot 2 gets a fresh unit (returns once it is in place)
        host.unplug(3, 1.5)           # slot 3's unit is out, back in 1.5 s (staggered starts)
        host.cpu_seconds()            # the child's user+sys CPU so far

The child (``python -m bench.simhost``) runs the same ``start_fleet`` as ``station sim ppa`` and answers
over real HTTP; the only difference is who plays the operator. ``station sim ppa --replug-after S`` swaps a
unit after S idle seconds, which adds S plus a presence poll to every unit and, when a starved station
pauses longer than S between personalisation and verification, swaps the unit mid-run (seen at 32
fixtures). Here the station's slot asks for the swap after its verdict, exactly as the in-process
``simulated`` fixture does, so both placements run the same line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from station.core.codec import b64decode, b64encode

if TYPE_CHECKING:
    from station.sim.ppa.device import SimulatedPpa

STOP_TIMEOUT = 10.0


class SimHost:
    """The parent's handle on the child: its URLs, swaps on request, its CPU time."""

    def __init__(self, count: int, *, backend_key: bytes, timing: str) -> None:
        self.count = count
        self._args = [sys.executable, "-m", "bench.simhost", str(count), b64encode(backend_key), timing]
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # one command at a time on the pipe; slot threads share it
        self.urls: list[str] = []

    def __enter__(self) -> SimHost:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> SimHost:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self._args,
            cwd=Path(__file__).resolve().parents[1],  # where ``bench`` imports from, whatever our cwd
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.urls = [json.loads(self._read())["http"] for _ in range(self.count)]
        return self

    def replug(self, slot: int) -> None:
        """A fresh unit in ``slot``; returns when the child has swapped it."""
        self._command(f"replug {slot}")

    def unplug(self, slot: int, replug_after: float) -> None:
        """Take ``slot``'s unit out; the same unit is plugged back in ``replug_after`` seconds later."""
        self._command(f"unplug {slot} {replug_after!r}")

    def _command(self, command: str) -> None:
        with self._lock:
            stdin = self._pipe().stdin
            assert stdin is not None
            stdin.write(command + "\n")
            stdin.flush()
            answer = self._read().strip()
        if answer != f"ok {command}":
            raise RuntimeError(f"simulator host answered {answer!r} to {command!r}")

    def cpu_seconds(self) -> float:
        """User+sys CPU of the child so far (Linux ``/proc``; 0.0 where it is not available)."""
        if self._process is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def stop(self) -> None:
        """Close the child's stdin (it stops its units and exits); kill it if it does not."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def _pipe(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("the simulator host is not running")
        return self._process

    def _read(self) -> str:
        stdout = self._pipe().stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError("the simulator host exited (see its traceback above)")
        return line


def serve(count: int, backend_key: bytes, timing: str) -> None:
    """The child: start the units, print them, then swap units as asked until stdin closes."""
    from station.sim.ppa.fleet import start_fleet, stop_fleet
    from station.sim.ppa.timing import profile

    units = start_fleet(count, backend_key=backend_key, timing=profile(timing))
    try:
        for unit in units:
            print(json.dumps(unit.describe()), flush=True)
        for line in sys.stdin:
            print(("ok " if _obey(units, line.split()) else "error ") + line.strip(), flush=True)
    finally:
        stop_fleet(units)


def _obey(units: list[SimulatedPpa], words: list[str]) -> bool:
    """``replug SLOT`` (a fresh unit) or ``unplug SLOT SECONDS`` (the same unit back later)."""
    try:
        unit = units[int(words[1])]
        if words[0] == "replug" and len(words) == 2:
            unit.replug(new_unit=True)
        elif words[0] == "unplug" and len(words) == 3:
            unit.unplug(replug_after=float(words[2]))
        else:
            return False
    except (IndexError, ValueError):
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simhost", description="simulated units for bench")
    parser.add_argument("count", type=int)
    parser.add_argument("backend_key", help="base64 X25519 public key of the check-in backend")
    parser.add_argument("timing", help="timing profile name, e.g. fast or realistic*0.5")
    args = parser.parse_args(argv)
    serve(args.count, b64decode(args.backend_key), args.timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
