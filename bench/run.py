"""``make bench``: the station's two speed figures from issue 3, as ratios beside what they compare against.

Example::

    python -m bench.run                   # overhead, then parallel efficiency (both simulator placements)
    python -m bench.run --profile         # and where the station's CPU goes
    python -m bench.run --scale 0.5       # realistic*0.5 device timing: shorter, but see bench/README.md

Prints each section as it finishes, then one summary table. The targets are printed, never asserted:
the exit status is 0 whatever the ratios, and 1 only if the benchmark itself could not run (a unit that
failed, a run past its deadline). About 2-4 minutes on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import ssl
import sys
from collections.abc import Sequence

from bench import overhead, parallel
from bench.harness import CPUS, RunMeasure, SimPlacement

BUSY = 0.10  # other processes' CPU share above which the summary warns that the figures are pessimistic


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=24, help="units for the overhead run (default 24)")
    parser.add_argument("--scale", type=float, default=parallel.DEFAULT_SCALE, help="realistic*SCALE")
    parser.add_argument(
        "--sim",
        choices=("inprocess", "process", "both"),
        default="both",
        help="parallel: simulator placement",
    )
    parser.add_argument("--profile", action="store_true", help="profile a second overhead run (cProfile)")
    args = parser.parse_args(argv)
    print(_machine(), flush=True)
    try:
        cost = overhead.measure_overhead(args.units)
        print("\n" + overhead.report(cost), flush=True)
        if args.profile:
            print(overhead.profile_overhead(args.units, 4, "process"), flush=True)
        placements: tuple[SimPlacement, ...] = ("inprocess", "process") if args.sim == "both" else (args.sim,)
        results = []
        for sim in placements:
            results.append(parallel.measure_parallel(scale=args.scale, sim=sim))
            print("\n" + parallel.report(results[-1]), flush=True)
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print("\n" + summary(cost, results))
    return 0


def summary(cost: overhead.OverheadResult, results: Sequence[parallel.ParallelResult]) -> str:
    """One table: each ratio, what it divides by, its target and whether it is met."""
    rows = [
        (
            "station overhead",
            f"{cost.ratio:.2f}",
            f"station CPU {cost.cpu_per_unit:.3f} s/unit over unavoidable crypto "
            f"{cost.in_run.total:.3f} s/unit",
            f"≤ {overhead.TARGET}",
            "met" if cost.met else "MISSED",
        )
    ]
    for result in results:
        base = result.baseline.measure.units_per_hour
        for row in result.rows[1:]:
            n = row.measure.fixtures
            target = parallel.TARGETS.get(n)
            efficiency = result.efficiency(row)
            rows.append(
                (
                    f"parallel efficiency, {n} fixtures",
                    f"{efficiency:.2f}",
                    f"{row.measure.units_per_hour:.0f} units/h over {n} * {base:.0f} units/h with 1 "
                    f"({'simulator in process' if result.sim == 'inprocess' else 'simulator in a child'})",
                    "-" if target is None else f"≥ {target}",
                    "-" if target is None else ("met" if parallel.met(efficiency, target) else "MISSED"),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["Summary (targets from issue 3; printed, not asserted)"]
    lines.extend(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows
    )
    lines.extend(_noise([cost.measure, *(row.measure for result in results for row in result.rows)]))
    return "\n".join(lines)


def _noise(measures: Sequence[RunMeasure]) -> list[str]:
    """A warning when other processes took a noticeable share of the CPUs during any run."""
    shares = [m.others_cpu_share for m in measures if m.others_cpu_share is not None]
    if not shares or max(shares) < BUSY:
        return []
    return [
        f"  note: other processes used up to {100 * max(shares):.0f}% of the {CPUS} CPUs during these runs; "
        "the figures are pessimistic. Run on a quiet machine for numbers worth quoting."
    ]


def _machine() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"bench: {CPUS} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {ssl.OPENSSL_VERSION}; load average {load}"
    )


if __name__ == "__main__":
    sys.exit(main())
