"""Headless faces of a run: one progress line per finished unit, and the end-of-run summary.

>>> import sys; printer = ProgressPrinter(sys.stdout)       # ``station run`` subscribes it to station.bus
>>> printer(RunFinished("A1", 0.0, "run-1", Outcome.FAIL, "2023b758c209269a", "r-1", "attest", "refused"))
  A1  FAIL     2023b758c209269a  record r-1
      attest: refused
>>> summarize(VerdictTally(keep=None), elapsed=60.0).splitlines()[0]
'units: 0   pass: 0   fail: 0   error: 0   aborted: 0'
"""

from __future__ import annotations

import statistics
import threading
from typing import TextIO

from station.core.events import AlreadyPassed, Event, LogLine, Outcome, RunFinished, RunStarted
from station.core.text import printable
from station.pipeline.tally import VerdictTally


class ProgressPrinter:
    """Prints a line when a unit starts and when it finishes (with the reason when it did not pass)."""

    def __init__(self, out: TextIO, *, verbose: bool = False) -> None:
        self.out = out
        self.verbose = verbose
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = self._line(event)
        if line is not None:
            with self._lock:
                print(line, file=self.out, flush=True)

    def _line(self, event: Event) -> str | None:
        """The line(s) for ``event``; every value in them escaped (``printable``): a unit's text can neither
        add a line nor run an escape code on the operator's terminal."""
        slot = printable(event.slot)
        if isinstance(event, RunStarted):
            resumed = " (resumed)" if event.resumed else ""
            return f"{slot:>4}  start    run {printable(event.run_id[:8])}{resumed}"
        if isinstance(event, RunFinished):
            unit = printable(event.unit_id or "unknown unit")
            line = f"{slot:>4}  {event.outcome.upper():<7}  {unit}  record {printable(event.record_id)}"
            if event.outcome is not Outcome.PASS:
                line += f"\n      {printable(event.failed_step)}: {printable(event.message)}"
            return line
        if isinstance(event, AlreadyPassed):  # no run: the unit's passing record, found again
            unit, record = printable(event.unit_id or "unknown unit"), printable(event.record_id)
            return f"{slot:>4}  PASS     {unit}  record {record}\n      {printable(event.message)}"
        if isinstance(event, LogLine) and (self.verbose or event.level in ("warning", "error")):
            return f"{slot:>4}  {printable(event.level):<7}  {printable(event.message)}"
        return None


def summarize(tally: VerdictTally, elapsed: float) -> str:
    """Units, outcomes, throughput and median step times (over the verdicts the tally kept)."""
    counts, total = tally.counts, tally.total
    per_hour = total / elapsed * 3600 if elapsed > 0 else 0.0
    lines = [
        f"units: {total}   pass: {counts[Outcome.PASS]}   fail: {counts[Outcome.FAIL]}   "
        f"error: {counts[Outcome.ERROR]}   aborted: {counts[Outcome.ABORTED]}",
        f"elapsed: {elapsed:.1f} s   throughput: {per_hour:.0f} units/hour",
    ]
    if tally.left_open:
        lines.append(
            f"left open by the stop: {len(tally.left_open)} run(s) that wrote to their unit; the next "
            "start resumes or closes them (leave those units in their slots)"
        )
    steps: dict[str, list[float]] = {}
    for verdict in tally.recent:
        for name, seconds in verdict.step_seconds.items():
            steps.setdefault(name, []).append(seconds)
    if steps:
        lines.append("median step times:")
        lines.extend(
            f"  {name:<12} {statistics.median(times) * 1000:8.1f} ms" for name, times in steps.items()
        )
    return "\n".join(lines)
