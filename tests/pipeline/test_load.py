"""The station's pace against a unit that hangs under request load (fault ``hang_under_load``).

Firmware 1.2.2 hangs under sustained request load until it is power-cycled (docs/simulator.md, "Load and
self-test"). The station keeps ``request_spacing`` (150 ms, the SDKs' pace) between requests to a unit
and, waiting for a unit's removal, asks a unit it cannot see otherwise at most once a second. The unit
here hangs at the realistic threshold (more than 8 requests a second) kept up for only one second: the
strictest form of the rule, which a station sending back-to-back requests trips at once.
"""

from __future__ import annotations

import threading

import pytest

from station.core.events import Event, Outcome, RunFinished
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import LineFactory, failure_of
from tests.simtools import reboot

LOAD_RULE = FaultRule("hang_under_load", rate=8, seconds=1.0)
REMOVAL_AFTER = 3.0  # seconds the operator leaves a finished unit in the slot


class Operator:
    """Takes the finished unit out ``REMOVAL_AFTER`` seconds after its verdict (a fresh one is plugged in
    1.5 s later: the slot probes once a second), noting how many requests the unit got while it waited."""

    def __init__(self, unit: SimulatedPpa) -> None:
        self.unit = unit
        self.while_waiting: list[int] = []
        self.timers: list[threading.Timer] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished) and not self.timers:
            seen = len(self.unit.requests_seen)
            timer = threading.Timer(REMOVAL_AFTER, self.remove, args=(seen,))
            self.timers.append(timer)
            timer.start()

    def remove(self, seen_at_verdict: int) -> None:
        self.while_waiting.append(len(self.unit.requests_seen) - seen_at_verdict)
        self.unit.unplug(replug_after=1.5)


def test_the_station_never_hangs_a_unit_at_its_own_pace(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}], request_spacing=0.15)
    unit = line.extra_units[0]
    unit.faults.add(FaultRule(**vars(LOAD_RULE)))
    operator = Operator(unit)
    line.station.bus.subscribe(operator)

    verdicts = line.run(units=2)  # the second unit starts only once the first one has left the slot

    for timer in operator.timers:
        timer.join()
    assert [v.outcome for v in verdicts] == [Outcome.PASS, Outcome.PASS], [v.failure for v in verdicts]
    assert not unit.hung
    # 3 s in the slot after its verdict: a status probe once a second (the old 0.2 s poll sent 15)
    (waiting,) = operator.while_waiting
    assert waiting <= REMOVAL_AFTER + 1


@pytest.mark.usefixtures("quick_retries")
def test_back_to_back_requests_hang_the_same_unit(line_factory: LineFactory) -> None:
    """Without the spacing the same rule trips within the first steps: the pace is what protects it."""
    line = line_factory(network=[{}], request_spacing=0, client_timeout=0.5)
    unit = line.extra_units[0]
    unit.faults.add(FaultRule(**vars(LOAD_RULE)))

    (verdict,) = line.run()

    assert unit.hung
    step, code, _ = failure_of(verdict)
    assert code == "timeout", (step, code)
    reboot(unit)  # a power cycle brings it back, after its boot time
    assert line.status()["fls_state"] == 0


def test_a_swap_between_two_removal_probes_is_seen_by_the_new_units_uptime(line_factory: LineFactory) -> None:
    """The slot is empty for no time at all: the fresh unit's smaller uptime says the finished one left."""
    line = line_factory(network=[{}])
    unit = line.extra_units[0]
    timers: list[threading.Timer] = []

    def swap(event: Event) -> None:
        if isinstance(event, RunFinished) and not timers:
            timers.append(threading.Timer(REMOVAL_AFTER, unit.replug, kwargs={"new_unit": True}))
            timers[0].start()

    line.station.bus.subscribe(swap)
    verdicts = line.run(units=2)

    timers[0].join()
    assert [v.outcome for v in verdicts] == [Outcome.PASS, Outcome.PASS], [v.failure for v in verdicts]
    assert unit.units_seen == 2
    assert verdicts[0].record.payload["unit"]["devid"] != verdicts[1].record.payload["unit"]["devid"]
