"""Many simulated units in one process, as ``station sim ppa --count N`` serves them.

>>> units = start_fleet(1, backend_key=bytes(32), fwv="Encedo nGINE FW v1.2.0")   # slots 0..N-1
>>> sorted(units[0].describe()), units[0].state.firmware.fwv     # ``describe()``: the JSON line printed
(['devid', 'http', 'https', 'slot'], 'Encedo nGINE FW v1.2.0')
>>> stop_fleet(units)
"""

from __future__ import annotations

from collections.abc import Callable

from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultPlan, FaultRule
from station.sim.ppa.state import DEFAULT_FWV
from station.sim.ppa.timing import FAST, TimingProfile


def start_fleet(
    count: int,
    *,
    backend_key: bytes,
    timing: TimingProfile = FAST,
    faults: FaultPlan | None = None,
    host: str = "127.0.0.1",
    http_port: int = 0,
    https_port: int = 0,
    fwv: str = DEFAULT_FWV,
    replug_after: float | None = None,
    on_fault: Callable[[int, FaultRule, str, str], None] | None = None,
    on_presence: Callable[[int, bool], None] | None = None,
) -> list[SimulatedPpa]:
    """Start ``count`` independent units (slots 0..count-1). Fixed ports only make sense for one unit."""
    units: list[SimulatedPpa] = []
    try:
        for slot in range(count):
            unit = SimulatedPpa(
                backend_key=backend_key,
                slot=slot,
                timing=timing,
                faults=faults,
                host=host,
                http_port=http_port,
                https_port=https_port,
                fwv=fwv,
                replug_after=replug_after,
                on_fault=on_fault,
                on_presence=on_presence,
            )
            units.append(unit.start())
    except BaseException:
        stop_fleet(units)
        raise
    return units


def stop_fleet(units: list[SimulatedPpa]) -> None:
    for unit in units:
        unit.stop()
