"""Soak: many units through production in one station process, watching its memory and descriptors.

Example::

    python -m bench.soak                                  # 10 000 units over 4 fixtures (~40 min)
    python -m bench.soak --units 200 --every 25           # a short run: warm-up 20, a row every 25
    python -m bench.soak --units 2000 --trace             # and what grew, by source line (tracemalloc)

A factory station runs all day; a few kilobytes kept per unit become hundreds of megabytes by the
evening. The station runs in this process (so ``/proc/self`` is the station: ``VmRSS``, open
descriptors, threads), with ``fast`` device timing, and the simulated units in a child process
(``bench.simhost``), so the simulator's memory is not counted. One ``Station.run`` serves every unit,
as ``station run`` and the operator window do on a line (``--chunks``: one run per row, so what a run
keeps until it returns is released between rows, to tell that apart from other growth). A row is
sampled every ``--every`` units; growth is judged from the end of the warm-up (the first ``--warmup``
units: caches, connection pools, lazy imports) to the last row. Targets (issue 9): under 20 MB of
memory growth after the warm-up, and no descriptor growth. Printed, not asserted; the exit status is 1
only when the run itself failed (a unit that did not pass).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import BenchStation
from bench.soakreport import HEADER, Sample, growth_report, row
from station.core.events import Event, RunFinished

DEFAULT_UNITS = 10_000
DEFAULT_FIXTURES = 4
HOURS = 3600.0


@dataclass(frozen=True)
class SoakPlan:
    units: int
    fixtures: int
    every: int
    warmup: int
    trace: bool
    chunks: bool = False  # consecutive Station.run calls of ``every`` units, sampled between them


class Sampler:
    """A bus subscriber: every ``every`` finished units, one sample of this process (the station)."""

    def __init__(self, every: int, started: float) -> None:
        self.every = every
        self.started = started
        self.samples: list[Sample] = [printed(sample_process(0, started))]
        self._finished = 0
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, RunFinished):
            return
        with self._lock:  # slot threads finish units concurrently; rows stay in unit order
            self._finished += 1
            if self._finished % self.every == 0:
                self.samples.append(printed(sample_process(self._finished, self.started)))

    def finish(self) -> None:
        """A last row for a unit count that is not a multiple of ``every``."""
        if self.samples[-1].units != self._finished:
            self.samples.append(printed(sample_process(self._finished, self.started)))


def sample_process(units: int, started: float) -> Sample:
    """RSS, open descriptors and threads of this process, from ``/proc/self`` (Linux)."""
    status = _status_fields(Path("/proc/self/status").read_text())
    descriptors = sum(1 for _ in Path("/proc/self/fd").iterdir()) - 1  # minus the listing's own
    return Sample(
        units=units,
        seconds=time.monotonic() - started,
        rss_kib=status["VmRSS"],
        descriptors=descriptors,
        threads=status["Threads"],
    )


def printed(sample: Sample) -> Sample:
    """Print a row as soon as it is taken: a long soak shows its progress."""
    print(row(sample), flush=True)
    return sample


def _status_fields(text: str) -> dict[str, int]:
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "Threads"):
            fields[name] = int(value.split()[0])
    return fields


def soak(plan: SoakPlan) -> list[Sample]:
    """Provision ``plan.units`` units; the samples, warm-up row included."""
    with BenchStation(fixtures=plan.fixtures, timing="fast", sim="process") as bench:
        tracer = _WarmupTracer(plan.warmup, plan.units) if plan.trace else None
        if tracer is not None:
            bench.station.bus.subscribe(tracer)
        samples = _chunked(bench, plan) if plan.chunks else _continuous(bench, plan)
        if tracer is not None:
            print(tracer.report(), flush=True)
    return samples


def _continuous(bench: BenchStation, plan: SoakPlan) -> list[Sample]:
    """One ``Station.run`` for every unit, as ``station run`` and the operator window do all day."""
    sampler = Sampler(plan.every, time.monotonic())
    bench.station.bus.subscribe(sampler)
    bench.run(plan.units, deadline=max(HOURS, plan.units * 2.0))
    sampler.finish()
    return sampler.samples


def _chunked(bench: BenchStation, plan: SoakPlan) -> list[Sample]:
    """``--chunks``: one ``Station.run`` per ``every`` units, sampled after each returns, so the verdicts
    a run returns (and its slot threads) are gone: what grows here grows outside ``Station.run``."""
    started = time.monotonic()
    samples, done = [printed(sample_process(0, started))], 0
    while done < plan.units:
        if done and bench.host is not None:  # a run leaves its last units in their slots, as on a line
            for slot in range(plan.fixtures):
                bench.host.replug(slot)
        chunk = min(plan.every, plan.units - done)
        bench.run(chunk, deadline=max(HOURS, chunk * 2.0))
        done += chunk
        samples.append(printed(sample_process(done, started)))
    return samples


class _WarmupTracer:
    """``--trace``: tracemalloc snapshots when the warm-up ends and at the last unit, while the station
    still runs (afterwards its threads and what ``Station.run`` returns are gone), compared."""

    def __init__(self, warmup: int, units: int) -> None:
        self.warmup, self.units = warmup, units
        self._finished = 0
        self._lock = threading.Lock()
        self._snapshots: dict[int, tracemalloc.Snapshot] = {}
        tracemalloc.start(12)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, RunFinished):
            return
        with self._lock:
            self._finished += 1
            if self._finished in (self.warmup, self.units):
                self._snapshots[self._finished] = tracemalloc.take_snapshot()

    def report(self, top: int = 12) -> str:
        tracemalloc.stop()
        if len(self._snapshots) < 2:
            return "tracemalloc: the run ended before its last unit; nothing to compare"
        stats = self._snapshots[self.units].compare_to(self._snapshots[self.warmup], "traceback")[:top]
        lines = [f"Python allocations that grew most after the warm-up (tracemalloc, top {top}):"]
        for stat in stats:
            lines.append(f"  {stat.size_diff / 1024:+10.0f} KiB  {stat.count_diff:+8d} blocks")
            recent = list(reversed(stat.traceback))[:5]  # the allocating line first, then its callers
            lines.extend(f"      {frame.filename}:{frame.lineno}" for frame in recent)
        return "\n".join(lines)


def _plan(argv: Sequence[str] | None) -> SoakPlan:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help=f"units (default {DEFAULT_UNITS})")
    parser.add_argument("--fixtures", type=int, default=DEFAULT_FIXTURES, help="fixtures (default 4)")
    parser.add_argument("--every", type=int, help="units between samples (default units/20)")
    parser.add_argument("--warmup", type=int, help="warm-up units, not judged (default units/10)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc: what grew after the warm-up")
    parser.add_argument(
        "--chunks", action="store_true", help="one Station.run per --every units (its verdicts dropped)"
    )
    args = parser.parse_args(argv)
    if args.units < 2 or args.fixtures < 1:
        parser.error("--units must be at least 2 and --fixtures at least 1")
    every = args.every or max(1, args.units // 20)
    warmup = args.warmup if args.warmup is not None else max(every, args.units // 10)
    if not 0 < warmup < args.units or every < 1:
        parser.error("--warmup must be between 1 and --units - 1, and --every at least 1")
    return SoakPlan(args.units, args.fixtures, every, warmup, args.trace, args.chunks)


def main(argv: Sequence[str] | None = None) -> int:
    plan = _plan(argv)
    print(
        f"Soak: {plan.units} units, {plan.fixtures} fixtures, fast timing, simulator in a child process; "
        f"a row every {plan.every} units, warm-up {plan.warmup} units"
        + ("; one Station.run per row (--chunks)" if plan.chunks else "; one Station.run for all units"),
        flush=True,
    )
    print(HEADER, flush=True)
    try:
        samples = soak(plan)
    except RuntimeError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    print(growth_report(samples, plan.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
