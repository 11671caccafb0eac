"""Simulated units for the chaos run: ``station sim ppa`` plus an operator who takes every unit away once
the station is done with it, and a ledger of what happened to each unit.

Example::

    python -m bench.chaossim --count 8 --data DIR --faults "seed=1; drop p=0.01" --swap-after 4 \\
        --ledger ledger.jsonl          # one JSON line per unit on stdout; runs until stdin closes

The units, the fault plan (same syntax) and the timing are those of ``station sim ppa``; two things
differ, and both are why the chaos run does not use it directly:

- ``station sim ppa --replug-after`` swaps only personalised units; a unit that failed earlier stays in
  its slot for ever and the slot serves nobody else. Here any unit the station has sent a request to
  (status polls do not count) is taken away ``--swap-after`` idle seconds later, pass or fail, and a
  fresh one plugged in. A station that stays down longer than that finds another unit in the slot:
  the run it left open must end with an ``aborted`` record.
- The simulator's own view is written to ``--ledger`` (JSON lines): ``unit`` when a unit is plugged
  in, ``provision`` for every provisioning POST and its status, ``fault`` for every injected fault,
  ``gone`` with the unit's final state (certificate, personalised, firmware) when it is taken away or
  when the simulator stops. A unit "provisioned twice" is a second provisioning POST answered 200.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from station.core.codec import b64encode, x25519_public_key
from station.core.config import KeysSection
from station.factory.keys.keystore import open_key
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule, parse_spec
from station.sim.ppa.http import Request, Response
from station.sim.ppa.state import PersistentState
from station.sim.ppa.timing import profile

PROVISIONING = ("POST", "/api/system/config/provisioning")


class Ledger:
    """JSON lines, one per event, flushed at once (the file is read after the run)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "at": time.time(), **fields}, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class ChaosUnit(SimulatedPpa):
    """A simulated PPA slot whose operator swaps out any unit the station has finished with."""

    def __init__(self, *, ledger: Ledger, swap_after: float, **options: Any) -> None:
        self.ledger = ledger  # before the base class makes the first unit, which is logged
        super().__init__(replug_after=swap_after, **options)
        self._talk_at_plug = self._last_talk

    def _new_unit(self) -> PersistentState:
        state = super()._new_unit()
        hardware = state.hardware
        self.ledger.write("unit", slot=self.slot, devid=hardware.devid, genuine_id=hardware.genuine_id)
        return state

    def replug(self, *, new_unit: bool = True) -> None:
        with self._lock:
            if new_unit:
                self.log_gone("swapped")
            super().replug(new_unit=new_unit)
            self._talk_at_plug = self._last_talk

    def log_gone(self, why: str) -> None:
        """The final state of the unit now in the slot, as it leaves (``why``: swapped | end)."""
        state = self.state
        certificate = state.se_certificate
        self.ledger.write(
            "gone",
            why=why,
            slot=self.slot,
            devid=state.hardware.devid,
            genuine_id=state.hardware.genuine_id,
            eid=b64encode(state.instance.eid_public),
            touched=self._touched(),
            crt_sha256=hashlib.sha256(certificate).hexdigest() if certificate is not None else None,
            personalised=state.initialised,
            fwv=state.firmware.fwv,
        )

    def _touched(self) -> bool:
        """The station sent this unit a request other than a status poll."""
        return self._last_talk != self._talk_at_plug

    def _operator_swaps(self, now: float) -> bool:
        """Any unit the station has talked to and then left idle for ``swap_after`` seconds goes."""
        assert self.replug_after is not None
        return self._present and self._touched() and now - self._last_talk >= self.replug_after

    def _dispatch(self, request: Request) -> tuple[Response, str]:
        response, cost = super()._dispatch(request)
        if (request.method, request.path) == PROVISIONING:
            self.ledger.write("provision", slot=self.slot, devid=self.devid, status=response.status)
        return response, cost


def start_units(args: argparse.Namespace, ledger: Ledger) -> list[ChaosUnit]:
    """The units of ``station sim ppa --count N``, trusting the station's check-in key in ``--data``."""
    checkin = open_key(KeysSection().checkin, Path(args.data), setting="keys.checkin").x25519()
    plan = parse_spec(args.faults)

    def on_fault(slot: int, rule: FaultRule, method: str, path: str) -> None:
        ledger.write("fault", slot=slot, kind=rule.kind, method=method, path=path)

    units: list[ChaosUnit] = []
    try:
        for slot in range(args.count):
            unit = ChaosUnit(
                ledger=ledger,
                swap_after=args.swap_after,
                backend_key=x25519_public_key(checkin),
                slot=slot,
                timing=profile(args.timing),
                faults=plan,
                on_fault=on_fault,
            )
            unit.start()
            units.append(unit)
    except BaseException:
        for unit in units:
            unit.stop()
        raise
    return units


def serve(args: argparse.Namespace) -> None:
    """Print the units like ``station sim ppa``, serve until stdin closes, then log each unit's end."""
    ledger = Ledger(Path(args.ledger))
    units = start_units(args, ledger)
    try:
        for unit in units:
            print(json.dumps(unit.describe()), flush=True)
        for _ in sys.stdin:  # the parent closes stdin to stop us (or dies, which closes it too)
            pass
    finally:
        for unit in units:
            unit.stop()
            unit.log_gone("end")
        ledger.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaossim", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, required=True, help="units (slots 0..count-1)")
    parser.add_argument("--data", required=True, help="station data directory (its check-in key)")
    parser.add_argument("--faults", default="", help="fault plan, the syntax of station sim ppa --faults")
    parser.add_argument("--swap-after", type=float, required=True, help="idle seconds before a swap")
    parser.add_argument("--ledger", required=True, help="JSON-lines file of what happened to each unit")
    parser.add_argument("--timing", default="fast", help="timing profile (default fast)")
    serve(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
