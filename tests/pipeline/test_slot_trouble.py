"""A slot whose unit cannot be reached says why, once per change of cause, instead of waiting silently."""

from __future__ import annotations

import threading
import time

from station.core.events import Event, LogLine
from tests.pipeline.conftest import LineFactory


def test_a_slot_that_cannot_reach_its_unit_says_why_once(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    unit = line.extra_units[0]
    unit.unplug()  # the fixture's address answers, but no unit is behind it
    lines: list[LogLine] = []

    def watch(event: Event) -> None:
        if isinstance(event, LogLine) and event.message.startswith("slot not responding"):
            lines.append(event)

    line.station.bus.subscribe(watch)
    verdicts: list[object] = []
    worker = threading.Thread(target=lambda: verdicts.extend(line.station.run(units=1)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # five more presence polls: the same cause is not said again
    assert len(lines) == 1, [event.message for event in lines]
    assert lines[0].slot == "N1" and lines[0].level == "warning"
    assert lines[0].message.startswith("slot not responding: ")
    unit.replug(new_unit=True)
    worker.join(60)
    assert len(verdicts) == 1  # the slot went on with the unit once it answered
