"""``make bench``: the station's speed figures, each beside what it compares against.

Example::

    python -m bench.run                   # overhead, parallel efficiency, GUI stall, verification, sync
    python -m bench.run --profile         # and where the station's CPU goes
    python -m bench.run --scale 0.5       # realistic*0.5 device timing: shorter, but see bench/README.md
    python -m bench.run --no-gui --sync-records 0     # only the station figures

Station overhead and parallel efficiency (issue 3) run here; the GUI event-loop stall with 32 fixtures
(issue 6), chain verification and line sync throughput (issue 4) run as child processes
(``bench/children.py``; sync only when PostgreSQL is available, see ``tests/pgserver.py``). Prints each
section as it finishes, then one summary table. The targets are printed, never asserted: the exit status
is 0 whatever the figures, and 1 only if a benchmark itself could not run (a unit that failed, a run past
its deadline). About 6-8 minutes on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import ssl
import sys
from collections.abc import Sequence
from typing import Any

from bench import overhead, parallel
from bench.children import run_child
from bench.harness import CPUS, RunMeasure, SimPlacement

Row = tuple[str, str, str, str, str]  # figure, value, what it compares against, target, met

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
    parser.add_argument("--no-gui", action="store_true", help="skip the GUI event-loop stall (needs PySide6)")
    parser.add_argument(
        "--sync-records",
        type=int,
        default=20_000,
        help="chain length for verify/sync (0: skip; default 20 000)",
    )
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
    extra = _child_figures(args)
    print("\n" + summary(cost, results, extra))
    return 0


def _child_figures(args: argparse.Namespace) -> list[Row]:
    """GUI stall and records figures, each from its own child process (see ``bench/children.py``)."""
    rows: list[Row] = []
    if not args.no_gui:
        print("\nGUI event-loop stall, 32 fixtures (bench.gui_stall)", flush=True)
        rows.extend(_stall_rows(run_child(["bench.gui_stall", "--fixtures", "32", "--units", "96"])))
    if args.sync_records > 0:
        print(
            f"\nRecord chain verification and line sync, {args.sync_records} records (bench.sync)", flush=True
        )
        rows.extend(_records_rows(run_child(["bench.sync", "--records", str(args.sync_records)])))
    return rows


def _stall_rows(results: list[dict[str, Any]]) -> list[Row]:
    if not results:
        return [("GUI stall p99, 32 fixtures", "not run", "see the output above", "< 50 ms", "-")]
    stall = results[-1]
    p99 = float(stall["p99_ms"])
    return [
        (
            "GUI stall p99, 32 fixtures",
            f"{p99:.0f} ms",
            f"5 ms timer lateness while running; idle window p99 {float(stall['idle_p99_ms']):.0f} ms",
            f"< {gui_stall_target():.0f} ms",
            "met" if p99 < gui_stall_target() else "MISSED",
        )
    ]


def _records_rows(results: list[dict[str, Any]]) -> list[Row]:
    names = {
        "verify_sqlite": ("chain verification, SQLite", "signatures, schema, chain, certificates, registry"),
        "sync": ("line sync into PostgreSQL", "verified store-and-forward, batches of 500"),
        "verify_line": ("chain verification, line DB", "the same checks over PostgreSQL"),
    }
    rows: list[Row] = []
    for result in results:
        if result["figure"] in names:
            name, what = names[result["figure"]]
            rate, cpu_rate = float(result["per_s"]), float(result["cpu_per_s"])
            target = result.get("target")
            others = result.get("others_share")
            said = f"{what}; {cpu_rate:.0f} rec/s per CPU second"
            if others is not None and others > BUSY:  # the wall rate is pessimistic: say what the CPU shows
                cores = int(result.get("cpus", CPUS))
                said += f"; loaded ({100 * others:.0f}% others): {cpu_rate * cores:.0f}/s on {cores} cores"
            if target is None:
                rows.append((name, f"{rate:.0f} rec/s", said, "-", "-"))
                continue
            ratio = f"{rate:.0f} rec/s ({rate / target:.2f}x)"
            rows.append((name, ratio, said, f"≥ {target:.0f} rec/s", "met" if rate >= target else "MISSED"))
    if not any(result["figure"] == "sync" for result in results):
        rows.append(
            ("line sync into PostgreSQL", "not run", "no PostgreSQL (see tests/pgserver.py)", "-", "-")
        )
    return rows


def gui_stall_target() -> float:
    return 50.0  # ms, issue 6 (bench/gui_stall.py TARGET_P99_MS; not imported: that module loads Qt)


def summary(
    cost: overhead.OverheadResult, results: Sequence[parallel.ParallelResult], extra: Sequence[Row] = ()
) -> str:
    """One table: each figure, what it compares against, its target and whether it is met."""
    rows: list[Row] = [
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
            target = result.target(row)
            efficiency = result.efficiency(row)
            rows.append(
                (
                    f"parallel efficiency, {n} fixtures",
                    f"{efficiency:.2f}",
                    f"{row.measure.units_per_hour:.0f} units/h over {n} * {base:.0f} units/h with 1 "
                    f"({'simulator in process' if result.sim == 'inprocess' else 'simulator in a child'}); "
                    f"by wall time {result.wall_efficiency(row):.2f} (staggered starts cap it at "
                    f"{result.wall_cap(row):.2f})",
                    "-" if target is None else f"≥ {target}",
                    "-" if target is None else ("met" if parallel.met(efficiency, target) else "MISSED"),
                )
            )
    rows.extend(extra)
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["Summary (targets from issues 3, 4, 6 and 19; printed, not asserted)"]
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
