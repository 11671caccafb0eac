"""The header's shift counters (passed, failed, yield, units per hour), counted since the window opened.

>>> counters = Counters(started=0.0)
>>> for outcome in (Outcome.PASS, Outcome.PASS, Outcome.ERROR): counters.add(outcome)
>>> counters.text(3600.0)                 # anything but a PASS counts as failed: it goes to QA
'Passed 2   Failed 1   Yield 66.7 %   3 units/h'
"""

from __future__ import annotations

from dataclasses import dataclass

from station.core.events import Outcome

MIN_RATE_WINDOW = 60.0  # seconds; before a minute has passed, units/hour is extrapolated from a minute


@dataclass
class Counters:
    started: float
    passed: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome is Outcome.PASS:
            self.passed += 1
        else:
            self.failed += 1

    @property
    def total(self) -> int:
        return self.passed + self.failed

    def yield_percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.passed / self.total

    def per_hour(self, now: float) -> float:
        return self.total * 3600.0 / max(now - self.started, MIN_RATE_WINDOW)

    def text(self, now: float) -> str:
        percent = self.yield_percent()
        shown = "-" if percent is None else f"{percent:.1f} %"
        return (
            f"Passed {self.passed}   Failed {self.failed}   Yield {shown}   {self.per_hour(now):.0f} units/h"
        )
