"""Run a station until a slot shows a unit as already passed (no run, no record), then let it finish.

A unit that passed before gets no run, so ``Station.run(units=1)`` over a ``network`` slot would wait for
the operator to take it out; this runs it in a thread, waits for the ``AlreadyPassed`` event and ends it
as a logout does (``Station.finish``).
"""

from __future__ import annotations

import threading

from station.core.events import AlreadyPassed, Event
from tests.pipeline.conftest import Line

WITHIN = 30.0


def shown_as_passed(line: Line) -> tuple[AlreadyPassed, list[Event]]:
    """The ``AlreadyPassed`` event of the station's first slot, and every event published until then."""
    events: list[Event] = []
    seen = threading.Event()

    def hear(event: Event) -> None:
        events.append(event)
        if isinstance(event, AlreadyPassed):
            seen.set()

    station = line.station
    station.bus.subscribe(hear)
    runner = threading.Thread(target=station.run, kwargs={"units": 1}, daemon=True)
    runner.start()
    try:
        assert seen.wait(WITHIN), f"no unit was shown as already passed: {events}"
    finally:
        station.finish()
        runner.join(WITHIN)
        station.bus.unsubscribe(hear)
        station.finishing.clear()  # the station may run again
    assert not runner.is_alive()
    (shown,) = [event for event in events if isinstance(event, AlreadyPassed)]
    return shown, events
