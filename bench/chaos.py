"""Chaos: units with random faults, and a station killed (SIGKILL) at random moments and started again.

Example::

    python -m bench.chaos                                  # 1 000 units, 8 fixtures, 100 kills (~17 min)
    python -m bench.chaos --units 200 --kills 20 --seed 3  # a short run
    python -m bench.chaos --units 20 --kills 2 --keep /tmp/chaos   # keep data, logs and ledger

``station run`` runs as a child process over ``network`` fixtures, one per simulated unit of
``bench.chaossim`` (``station sim ppa``'s units and fault plan, with an operator who swaps out every unit
the station is done with). The fault plan drops connections, answers 500 or garbage, delays replies and
unplugs units (a fresh one appears a second later), on every request except the status polls that
tell a network fixture a unit is present. The station is killed with SIGKILL when the records reach
evenly spaced counts, plus a random 0-3 s, and started again after a random pause: shorter pauses
resume interrupted runs on the same unit, longer ones find the unit swapped. This repeats until at
least ``--units`` records exist and no run is left open.

At the end it prints, from the records database and the simulator's ledger (``bench.chaosfigures``):
units with exactly one final verdict, units provisioned twice, records failing verification, chain
breaks, and more. The exit status is 1 when a must-be-0 figure is not 0 (the folder is then kept for
inspection), 2 when the run itself could not finish.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.chaosfigures import chaos_figures
from bench.chaosledger import read_ledger
from bench.chaosline import ChaosError, ChaosLine, ChaosPlan, DriveLog, drive

DEFAULT_UNITS = 1000
DEFAULT_FIXTURES = 8
NOTES_SHOWN = 12


def _plan(argv: Sequence[str] | None) -> tuple[ChaosPlan, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--units", type=int, default=DEFAULT_UNITS, help=f"verdicts (default {DEFAULT_UNITS})"
    )
    parser.add_argument("--fixtures", type=int, default=DEFAULT_FIXTURES, help="fixtures (default 8)")
    parser.add_argument("--kills", type=int, help="SIGKILLs of the station (default units/10)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the faults, kills and pauses (default 1)"
    )
    parser.add_argument("--swap-after", type=float, default=4.0, help="idle s before a unit is swapped")
    parser.add_argument(
        "--restart-pause", type=float, help="longest pause before a restart, s (default 1.25 * swap-after)"
    )
    parser.add_argument("--keep", help="keep the run's folder (data, logs, ledger) here")
    args = parser.parse_args(argv)
    if args.units < 1 or args.fixtures < 1 or (args.kills is not None and args.kills < 0):
        parser.error("--units and --fixtures must be at least 1, --kills at least 0")
    if args.swap_after <= 0 or (args.restart_pause is not None and args.restart_pause < 0):
        parser.error("--swap-after must be above 0 and --restart-pause at least 0")
    kills = args.kills if args.kills is not None else args.units // 10
    return ChaosPlan(args.units, args.fixtures, kills, args.seed, args.swap_after, args.restart_pause), (
        Path(args.keep) if args.keep else None
    )


def main(argv: Sequence[str] | None = None) -> int:
    plan, keep = _plan(argv)
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"Chaos: {plan.units} units, {plan.fixtures} fixtures, {plan.kills} SIGKILLs, seed {plan.seed}, "
        f"units swapped {plan.swap_after:g} s after the station leaves them, restarts after 0-"
        f"{plan.longest_pause:g} s; folder {folder}",
        flush=True,
    )
    print(f"fault plan: {plan.fault_spec()}", flush=True)
    try:
        with ChaosLine(plan, folder) as line:
            log = drive(plan, line)
    except ChaosError as exc:
        print(f"chaos: {exc} (folder kept: {folder})", file=sys.stderr)
        return 2
    failed = report(plan, folder, log)
    if failed or keep:
        print(f"folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


def report(plan: ChaosPlan, folder: Path, log: DriveLog) -> list[str]:
    """Print the figures; the names of the must-be-0 figures that are not 0."""
    ledger = read_ledger(folder / "ledger.jsonl")
    figures = chaos_figures(folder / "data", ledger, plan.slot_index(), plan.keys())
    figures.add("station starts", log.starts, None, f"{log.kills} killed with SIGKILL")
    figures.add("station crashes", log.crashes, 0, "exit status other than 0/1, or a traceback")
    print(f"\nfaults injected: {_counts(ledger.faults)}")
    print(f"verdicts: {_counts(figures.outcomes)}")
    print(f"failure codes: {_counts(figures.failure_codes)}")
    print(f"wall time: {log.seconds:.0f} s\n")
    print(figures.table())
    for line in [*figures.details, *log.notes]:  # every case behind a must-be figure that failed
        print(f"  ! {line}")
    for line in figures.notes[:NOTES_SHOWN]:
        print(f"  - {line}")
    if len(figures.notes) > NOTES_SHOWN:
        print(f"  - ... and {len(figures.notes) - NOTES_SHOWN} more like these")
    failed = figures.must_be_zero_failed()
    print(f"\nchaos: {'FAILED: ' + ', '.join(failed) if failed else 'every must-be figure holds'}")
    return failed


def _counts(counter: dict[str, int]) -> str:
    return (
        ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=lambda kv: -kv[1]))
        or "none"
    )


if __name__ == "__main__":
    sys.exit(main())
