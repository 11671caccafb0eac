"""The verdicts of one ``Station.run``: all of them for a counted run, a rolling summary for an open one.

>>> tally = VerdictTally(keep=2)             # an open-ended run keeps only the latest verdicts
>>> for n in range(3): tally.append(Verdict("A1", f"run-{n}", Outcome.PASS, None, None, 1.0, {}))
>>> tally.total, tally.counts[Outcome.PASS], [verdict.run_id for verdict in tally.recent]
(3, 3, ['run-1', 'run-2'])
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
        self._open: list[str] = []  # runs the station's stop left open (no verdict yet: the next start)
        self._lock = threading.Lock()

    def append(self, verdict: Verdict) -> None:
        with self._lock:
            self._recent.append(verdict)
            self._counts[verdict.outcome] += 1

    def interrupted(self, run_id: str) -> None:
        """A run the stop left open in the journal: no verdict, but the run did not finish either."""
        with self._lock:
            self._open.append(run_id)

    @property
    def left_open(self) -> list[str]:
        """The runs the stop interrupted after they wrote to their unit (resolved at the next start)."""
        with self._lock:
            return list(self._open)

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
