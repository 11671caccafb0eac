"""The verdicts of one ``Station.run``: all of them for a counted run, a rolling summary for an open one.

Example::

    tally = VerdictTally(keep=None)           # station.run(units=16): every verdict, records included
    tally = VerdictTally(keep=VERDICTS_KEPT)  # station.run(units=None): counts, the latest verdicts only
    tally.append(verdict)                     # from the slot workers (thread-safe)
    tally.total, tally.counts[Outcome.PASS], tally.recent, tally.step_seconds("personalize")

A station that runs all shift must not keep every unit's signed record in memory: the soak bench
measured 20 KB per unit (+174 MB over 9 000 units) when one open-ended run kept them all. The records
are in the store; the run keeps what its summary needs: counts, and the step times of the latest units
for the medians. ``Verdict`` (what a slot reports per unit) is defined here, beside what collects it, so
that ``slot.py`` imports the tally and not the other way round.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass

from station.core.events import Outcome
from station.pipeline.engine import Failure
from station.records.entries import StoredRecord

VERDICTS_KEPT = 1000  # verdicts an open-ended run keeps (for step-time medians and the last units' details)


@dataclass
class Verdict:
    """What a slot reports for each finished unit (for summaries and tests)."""

    slot: str
    run_id: str
    outcome: Outcome
    record: StoredRecord
    failure: Failure | None
    seconds: float
    step_seconds: dict[str, float]


class VerdictTally:
    """Verdicts as they come; ``keep`` None keeps all of them, a number only that many of the latest."""

    def __init__(self, keep: int | None) -> None:
        self._recent: deque[Verdict] = deque(maxlen=keep)
        self._counts: Counter[Outcome] = Counter()
        self._lock = threading.Lock()

    def append(self, verdict: Verdict) -> None:
        with self._lock:
            self._recent.append(verdict)
            self._counts[verdict.outcome] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def counts(self) -> Counter[Outcome]:
        with self._lock:
            return Counter(self._counts)

    @property
    def recent(self) -> list[Verdict]:
        """The verdicts kept (all of them for a counted run), in the order they came."""
        with self._lock:
            return list(self._recent)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.recent)

    def __len__(self) -> int:
        return self.total
