"""An open-ended run keeps its counts but only the latest verdicts: memory stays flat all shift."""

from __future__ import annotations

from station.core.events import Outcome
from station.pipeline.tally import VerdictTally
from tests.pipeline.conftest import LineFactory


class FakeVerdict:
    def __init__(self, outcome: Outcome, index: int) -> None:
        self.outcome, self.index = outcome, index


def test_a_bounded_tally_keeps_counts_of_all_and_only_the_latest_verdicts() -> None:
    tally = VerdictTally(keep=3)
    for index in range(10):
        tally.append(FakeVerdict(Outcome.FAIL if index % 5 == 0 else Outcome.PASS, index))  # type: ignore[arg-type]
    assert tally.total == len(tally) == 10
    assert tally.counts[Outcome.PASS] == 8 and tally.counts[Outcome.FAIL] == 2
    assert [v.index for v in tally.recent] == [7, 8, 9]  # type: ignore[attr-defined]


def test_a_counted_run_returns_every_verdict(line_factory: LineFactory) -> None:
    line = line_factory(fixtures=2)
    verdicts = line.station.run(units=3)
    assert len(verdicts) == 3 and line.station.tally is not None
    assert line.station.tally.total == 3 and [v.record for v in verdicts] == [
        v.record for v in line.station.tally.recent
    ]
