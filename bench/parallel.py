"""Parallel efficiency: units/hour with N fixtures over N * units/hour with one (≥ 0.9 at 32, ≥ 0.85 at 64).

Example::

    python -m bench.parallel                          # 1, 8, 32 (and 64 in a child); realistic timing
    python -m bench.parallel --scale 0.5 --sim process --fixtures 8

Simulated units follow the ``realistic`` timing profile (``--scale F`` runs ``realistic*F``; the station's
own CPU is not scaled, so F < 1 makes the station's work weigh more than on a real line). Every slot
provisions the same number of units (``--per-fixture``, default 4), so the first unit's ramp-up and the
last unit's tail weigh the same with 1 fixture as with 32. The slots start spread over one unit's time,
as units arrive on a running line (``--no-stagger``: all at once, which keeps every slot in lock-step:
all 32 derive their keys in the same second); units/hour is the steady rate, the sum over slots of
units / (first start to last verdict), with units / wall time printed beside it (``wall eff``: the same
ratio by wall time from the first start to the last verdict; staggered starts alone hold it to about
per_fixture / (per_fixture + 1), ``wall cap``).

Targets (issue 19): ≥ 0.9 at 32 fixtures with the simulated units in the station's process, ≥ 0.85 at 64
with them in a child process (64 fixtures run in that placement only), ≥ 0.9 at 8 in both.

``inprocess`` is the demo's setup (simulator threads share the station's process and GIL); ``process``
serves the same units from a child process (``bench.simhost``), which still shares the machine's CPUs.

A second table says where the time went:

- ``unit s``: the median unit's seconds;
- ``CPU ours`` / ``others``: the share of all CPUs the station (and simulator) used, and the share other
  processes took meanwhile (noise: quote figures from a quiet machine);
- ``CPU ceiling``: the best efficiency the CPUs allow at this row's CPU per unit
  (``ParallelResult.cpu_ceiling``); well below 1 means CPU-bound;
- ``PBKDF2 wall/CPU``: above 1, the key derivations waited for a core;
- ``writes/unit``, ``write wait``, ``store busy``: record-store transactions per unit, the mean wait for
  the store's write lock, and the share of the run the lock was held (near 100%: the store serialises);
- the steps, or the time between steps (journal writes, the record), that grew most against 1 fixture.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import CPUS, BenchStation, RunMeasure, SimPlacement
from bench.probes import CryptoProbe, StoreProbe

TARGETS: dict[SimPlacement, dict[int, float]] = {
    "inprocess": {8: 0.9, 32: 0.9},
    "process": {8: 0.9, 64: 0.85},
}
FIXTURES: dict[SimPlacement, tuple[int, ...]] = {"inprocess": (8, 32), "process": (8, 32, 64)}
DEFAULT_FIXTURES = FIXTURES["inprocess"]
DEFAULT_SCALE = 1.0
PER_FIXTURE = 4


@dataclass(frozen=True)
class Row:
    """One fixture count: the run and what the probes saw during it."""

    measure: RunMeasure
    pbkdf2_wall_over_cpu: float
    store_writes: int
    store_wait_seconds: float
    store_hold_seconds: float


@dataclass(frozen=True)
class ParallelResult:
    sim: SimPlacement
    timing: str
    staggered: bool
    rows: tuple[Row, ...]  # the first is the one-fixture baseline

    @property
    def baseline(self) -> Row:
        return self.rows[0]

    def cpu_ceiling(self, row: Row) -> float:
        """The best efficiency this machine's CPUs allow at the CPU per unit this row spent.

        N fixtures at N times the one-fixture rate need N * rate * (CPU per unit) CPUs; with fewer CPUs
        than that, efficiency cannot exceed CPUs / need. Well below 1: the row is CPU-bound, and only less
        CPU per unit helps; near 1 with a low efficiency: something serialises (a lock, the GIL).
        """
        m = row.measure
        per_unit = (m.cpu_seconds + (m.sim_cpu_seconds or 0.0)) / m.units
        need = m.fixtures * self.baseline.measure.units_per_hour / 3600 * per_unit
        return min(1.0, CPUS / need) if need else 1.0

    def efficiency(self, row: Row) -> float:
        fixtures = row.measure.fixtures
        return row.measure.units_per_hour / (fixtures * self.baseline.measure.units_per_hour)

    def wall_efficiency(self, row: Row) -> float:
        """The same ratio by wall time (start of the run to its last verdict), ramp and drain included."""
        fixtures = row.measure.fixtures
        return row.measure.wall_units_per_hour / (fixtures * self.baseline.measure.wall_units_per_hour)

    def wall_cap(self, row: Row) -> float:
        """The best ``wall_efficiency`` staggered starts allow: the last slot starts (N-1)/N units late."""
        if not self.staggered or row.measure.fixtures == 1:
            return 1.0
        per_fixture = row.measure.units / row.measure.fixtures
        return per_fixture / (per_fixture + (row.measure.fixtures - 1) / row.measure.fixtures)

    def target(self, row: Row) -> float | None:
        return target(self.sim, row.measure.fixtures)


def target(sim: SimPlacement, fixtures: int) -> float | None:
    """The efficiency target for ``fixtures`` fixtures with the simulated units placed as ``sim``."""
    return TARGETS[sim].get(fixtures)


def measure_parallel(
    fixtures: Sequence[int] | None = None,
    *,
    scale: float = DEFAULT_SCALE,
    sim: SimPlacement = "inprocess",
    per_fixture: int = PER_FIXTURE,
    stagger: bool = True,
) -> ParallelResult:
    """Run 1 fixture, then each count in ``fixtures``, ``per_fixture`` units per fixture each time.

    With ``stagger`` the slots of a multi-fixture run start spread over one unit's time (measured with
    one fixture), as units arrive on a running line; without, all start at the same instant. ``fixtures``
    defaults to ``FIXTURES[sim]``.
    """
    fixtures = FIXTURES[sim] if fixtures is None else fixtures
    timing = "realistic" if scale == 1 else f"realistic*{scale:g}"
    baseline = _row(1, per_fixture, timing, sim, spread=0.0)
    spread = baseline.measure.median_unit_seconds if stagger else 0.0
    rows = [_row(count, count * per_fixture, timing, sim, spread) for count in fixtures]
    return ParallelResult(sim, timing, stagger, (baseline, *rows))


def _row(fixtures: int, units: int, timing: str, sim: SimPlacement, spread: float) -> Row:
    print(f"  ... {fixtures} fixtures, {units} units, simulator {sim}", file=sys.stderr, flush=True)
    with BenchStation(fixtures=fixtures, timing=timing, sim=sim) as bench:
        if spread:
            bench.stagger(spread)
        with CryptoProbe() as crypto, StoreProbe() as store:
            measure = bench.run(units)
    return Row(measure, crypto.wall_over_cpu("pbkdf2"), store.writes, store.wait_seconds, store.hold_seconds)


def report(result: ParallelResult) -> str:
    """The section printed by ``bench.parallel`` and ``bench.run``: the figures, then where time went."""
    base = result.baseline.measure
    where = {"inprocess": "in the station's process", "process": "in a child process"}[result.sim]
    lines = [
        f"Parallel efficiency: {result.timing} timing, simulator {where}, {CPUS} CPUs, slots "
        + ("starting spread over one unit's time" if result.staggered else "all starting at once"),
        f"  efficiency = (units/h with N fixtures) / (N * {base.units_per_hour:.0f} units/h with 1 fixture);"
        " units/h: sum over slots of units / (first start to last verdict)",
        f"  {'fixtures':>8} {'units':>6} {'wall s':>7} {'units/h':>8} {'efficiency':>10}  {'target':<13}"
        f" {'wall eff':>8} {'wall cap':>8}  (units / wall time)",
    ]
    lines.extend(_figures(result, row) for row in result.rows)
    lines.append(
        f"  {'fixtures':>8} {'unit s':>6} {'CPU ours':>8} {'others':>6} {'CPU ceiling':>11}"
        f" {'PBKDF2 wall/CPU':>15} {'writes/unit':>11} {'write wait':>10} {'store busy':>10}"
        "  grew most against 1 fixture (median s)"
    )
    lines.extend(_diagnosis(result, row) for row in result.rows)
    return "\n".join(lines)


def met(value: float, target: float) -> bool:
    """Judged on the figure as printed (two decimals), so that a printed 0.90 never reads MISSED."""
    return round(value, 2) >= target


def _figures(result: ParallelResult, row: Row) -> str:
    m = row.measure
    goal = result.target(row)
    efficiency = result.efficiency(row)
    judged = "-" if goal is None else f"≥ {goal} {'met' if met(efficiency, goal) else 'MISSED'}"
    return (
        f"  {m.fixtures:>8} {m.units:>6} {m.wall_seconds:>7.1f} {m.units_per_hour:>8.0f} {efficiency:>10.2f}"
        f"  {judged:<13} {result.wall_efficiency(row):>8.2f} {result.wall_cap(row):>8.2f}"
        f"  ({m.wall_units_per_hour:.0f} units/h)"
    )


def _diagnosis(result: ParallelResult, row: Row) -> str:
    m = row.measure
    writes = row.store_writes / m.units
    wait_ms = 1000 * row.store_wait_seconds / max(row.store_writes, 1)
    others = "?" if m.others_cpu_share is None else f"{100 * m.others_cpu_share:.0f}%"
    return (
        f"  {m.fixtures:>8} {m.median_unit_seconds:>6.2f} {100 * m.own_cpu_share:>7.0f}% {others:>6}"
        f" {result.cpu_ceiling(row):>11.2f} {row.pbkdf2_wall_over_cpu:>15.2f} {writes:>11.1f}"
        f" {wait_ms:>7.1f} ms"
        f" {100 * row.store_hold_seconds / m.wall_seconds:>9.0f}%  {_grew(result.baseline.measure, m)}"
    )


def _grew(base: RunMeasure, measure: RunMeasure, top: int = 3) -> str:
    """The steps (and the time between them) whose median grew most against one fixture."""
    before, after = _phases(base), _phases(measure)
    growth = sorted(((after[name] - before.get(name, 0.0), name) for name in after), reverse=True)[:top]
    return ", ".join(f"{name} +{delta:.2f}" for delta, name in growth if delta >= 0.01) or "-"


def _phases(measure: RunMeasure) -> dict[str, float]:
    """Median seconds per step, plus ``between steps``: journal writes, the record, the swap."""
    phases = measure.median_step_seconds()
    phases["between steps"] = statistics.median(
        v.seconds - sum(v.step_seconds.values()) for v in measure.verdicts
    )
    return phases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parallel", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fixtures", default=None, help="fixture counts (default 8,32; and 64 with the simulator in a child)"
    )
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE, help="realistic*SCALE (default 1)")
    parser.add_argument("--per-fixture", type=int, default=PER_FIXTURE, help="units per fixture (default 4)")
    parser.add_argument(
        "--sim", choices=("inprocess", "process", "both"), default="both", help="where simulated units run"
    )
    parser.add_argument("--no-stagger", action="store_true", help="start all slots at the same instant")
    args = parser.parse_args(argv)
    counts = (
        None if args.fixtures is None else [int(part) for part in args.fixtures.split(",") if part.strip()]
    )
    placements: tuple[SimPlacement, ...] = ("inprocess", "process") if args.sim == "both" else (args.sim,)
    for sim in placements:
        result = measure_parallel(
            counts, scale=args.scale, sim=sim, per_fixture=args.per_fixture, stagger=not args.no_stagger
        )
        print("\n" + report(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
