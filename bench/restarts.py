"""Restarts on a line: how late the station notices a unit's new boot, with the real unit's timing.

Example::

    python -m bench.restarts                       # 8 fixtures, realistic timing, firmware upgrade + reboot
    python -m bench.restarts --fixtures 2 --scale 0.1

Each fixture holds a simulated PPA on firmware 1.2.2 following ``realistic`` (``--scale F``: ``realistic*F``):
the station upgrades it to 1.2.3 (an install: 2 s of old boot, 15 s flashing) and personalises it with an
address change, so the unit asks for a reboot (2 s, then 8 s gone). Printed: the pass rate, the median
unit's seconds, and per restart how long after the unit's new boot was up the station's first request
reached it (the station's wait beyond the configured restart; target < 1 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from station.app.station import Station
from station.core.config import KeysSection, load
from station.core.events import Outcome
from station.devices.ppa.protocol import generate_mnemonic
from station.factory.backend import LocalBackend
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.timing import profile

REPO = Path(__file__).resolve().parent.parent
STATION_ID = "bench-restarts"
UPGRADED_FWV = "Encedo nGINE FW v1.2.3"


class TimedUnit(SimulatedPpa):
    """A simulated unit noting, for each restart, how long its new boot waited for the first request."""

    def __init__(self, **kwargs: object) -> None:
        self.late: list[float] = []
        self._late_lock = threading.Lock()
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def _advance(self) -> None:
        restart = self._restart
        back = restart.back_at if restart is not None else None
        super()._advance()
        if back is not None and self._restart is None:  # the new boot came up just now, on a request
            with self._late_lock:
                self.late.append(max(self.clock.monotonic() - back, 0.0))


def station_toml(urls: list[str]) -> str:
    fixtures = "".join(
        f'[[fixture]]\nslot = "N{i + 1}"\nkind = "network"\nurl = "{url}"\n' for i, url in enumerate(urls)
    )
    return (
        f'[station]\nid = "{STATION_ID}"\ndata_dir = "data"\nsimulated = false\n'
        f'[firmware]\ndir = "{REPO / "firmware_images"}"\nrequire = "{UPGRADED_FWV}"\n'
        '[profile.default]\nuser = "Bench"\nemail = "bench@example.com"\nhostname = "ppa.example.com"\n'
        'ip = "192.168.8.1/24"\nsecrets = "batch"\npassphrase_env = "BENCH_PASSPHRASE"\n'
        'mnemonic_env = "BENCH_MNEMONIC"\n' + fixtures
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restarts", description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", type=int, default=8, help="fixtures, one unit each (default 8)")
    parser.add_argument("--scale", type=float, default=1.0, help="realistic*SCALE timing (default 1)")
    args = parser.parse_args(argv)
    timing = profile(f"realistic*{args.scale:g}")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder, "data")
        backend = LocalBackend.from_keys(KeysSection(), data, name=STATION_ID)
        units = [
            TimedUnit(backend_key=backend.checkin_public_key(), slot=i, timing=timing).start()
            for i in range(args.fixtures)
        ]
        try:
            Path(folder, "station.toml").write_text(station_toml([unit.http_url for unit in units]))
            env = {"BENCH_PASSPHRASE": "bench passphrase for restarts", "BENCH_MNEMONIC": generate_mnemonic()}
            station = Station.open(load(Path(folder, "station.toml")), environ=env)
            try:
                verdicts = station.run(units=args.fixtures)
            finally:
                station.close()
        finally:
            for unit in units:
                unit.stop()
    passed = [v for v in verdicts if v.outcome is Outcome.PASS]
    seconds = [
        (
            datetime.fromisoformat(v.record.payload["finished"])
            - datetime.fromisoformat(v.record.payload["started"])
        ).total_seconds()
        for v in verdicts
    ]
    late = [value for unit in units for value in unit.late]
    print(
        f"timing {timing.name}: reboot {timing.pre_reboot:g}+{timing.reboot:g} s, install "
        f"{timing.pre_reboot:g}+{timing.install:g} s, check {timing.fw_check:g} s, format {timing.format:g} s"
    )
    print(f"passed          {len(passed)}/{len(verdicts)}")
    for verdict in verdicts:
        if verdict.failure is not None:
            print(f"  failed: {verdict.failure.step} {verdict.failure.code}: {verdict.failure.message}")
    print(f"median unit     {statistics.median(seconds):.1f} s")
    if late:
        print(
            f"wait beyond restart: {len(late)} restarts, median {statistics.median(late):.2f} s, "
            f"max {max(late):.2f} s (target < 1 s)"
        )
    return 0 if len(passed) == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
