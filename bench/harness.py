"""A demo station for measurements: U units over N fixtures, timed by wall clock and by this process's CPU.

Example::

    with BenchStation(fixtures=4, timing="fast", sim="process") as bench:
        measure = bench.run(units=24)
    print(measure.cpu_seconds / measure.units, measure.units_per_hour)

``sim="inprocess"`` uses the demo's ``simulated`` fixtures, whose simulator threads share this process
(and its GIL) with the station. ``sim="process"`` serves the same units from a child process
(``bench.simhost``) and reaches them as ``network`` fixtures whose operator swaps the unit on the child
after each verdict, as a ``simulated`` slot does; this process's CPU is then the station's alone.
"""

from __future__ import annotations

import cProfile
import dataclasses
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from bench.simhost import SimHost
from station.app.demo import demo_config
from station.app.station import Station
from station.core.codec import x25519_public_key
from station.core.config import FixtureConfig, StationConfig
from station.core.events import Event, Outcome, RunFinished, RunStarted
from station.factory.keys.keystore import open_key
from station.fixtures import network, registry
from station.fixtures.base import Fixture
from station.pipeline.tally import Verdict
from station.sim import install as install_simulation

SimPlacement = Literal["process", "inprocess"]
HOSTED_KIND = "bench-hosted-sim"  # registered only while a BenchStation opens
CPUS = os.cpu_count() or 1
# A line ``BENCH-RESULT {json}`` printed by a bench script run as a child of bench.run, for its summary.
RESULT_PREFIX = "BENCH-RESULT"
RUN_DEADLINE = 300.0  # seconds; a bench run that takes longer is stopped and reported, never left hanging


@dataclass(frozen=True)
class RunMeasure:
    """One timed ``Station.run``: wall and CPU seconds of this process, the simulator's CPU, the verdicts."""

    fixtures: int
    units: int
    sim: SimPlacement
    wall_seconds: float
    cpu_seconds: float  # time.process_time(): every thread of this process
    rusage_seconds: float  # getrusage(RUSAGE_SELF) user + sys, the kernel's view of the same
    sim_cpu_seconds: float | None  # the child simulator's user + sys (None: it runs in this process)
    machine_busy_seconds: float | None  # every CPU's busy time, all processes (/proc/stat; None elsewhere)
    verdicts: tuple[Verdict, ...]
    slot_spans: tuple[SlotSpan, ...]

    @property
    def units_per_hour(self) -> float:
        """Steady-state rate: the sum over slots of units / (first unit's start → last verdict).

        Unlike units / wall time it leaves out a staggered slot's late start and the drain at the end,
        where some slots have finished and wait for the slowest; with one slot the two are the same.
        """
        return 3600.0 * sum(span.units / span.seconds for span in self.slot_spans if span.seconds > 0)

    @property
    def wall_units_per_hour(self) -> float:
        return len(self.verdicts) * 3600.0 / self.wall_seconds

    @property
    def median_unit_seconds(self) -> float:
        return statistics.median(v.seconds for v in self.verdicts)

    @property
    def own_cpu_share(self) -> float:
        """Station and simulator CPU over the wall time of all the machine's CPUs."""
        return (self.cpu_seconds + (self.sim_cpu_seconds or 0.0)) / (self.wall_seconds * CPUS)

    @property
    def others_cpu_share(self) -> float | None:
        """CPU that other processes on the machine took during the run, same scale (noise to watch)."""
        if self.machine_busy_seconds is None:
            return None
        return max(0.0, self.machine_busy_seconds / (self.wall_seconds * CPUS) - self.own_cpu_share)

    def median_step_seconds(self) -> dict[str, float]:
        names = {name for v in self.verdicts for name in v.step_seconds}
        return {
            name: statistics.median(v.step_seconds[name] for v in self.verdicts if name in v.step_seconds)
            for name in sorted(names)
        }


@dataclass(frozen=True)
class SlotSpan:
    """One slot's busy span: from its first unit's start to its last verdict."""

    slot: str
    units: int
    seconds: float


class BenchStation:
    """A demo station in a temporary data directory, with its simulated units in or out of process."""

    def __init__(self, *, fixtures: int, timing: str, sim: SimPlacement) -> None:
        self.fixtures = fixtures
        self.timing = timing
        self.sim = sim
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.host: SimHost | None = None
        self._station: Station | None = None
        self._first: dict[str, float] = {}  # slot -> first RunStarted.at of the current run
        self._last: dict[str, float] = {}  # slot -> last RunFinished.at

    @property
    def station(self) -> Station:
        assert self._station is not None, "use BenchStation as a context manager"
        return self._station

    def __enter__(self) -> BenchStation:
        self._folder = tempfile.TemporaryDirectory(prefix="bench-station-")
        try:
            self._open(Path(self._folder.name))
        except BaseException:
            self.__exit__(None, None, None)  # the child simulator and the folder go, whatever failed
            raise
        return self

    def _open(self, data: Path) -> None:
        config = demo_config(data, fixtures=self.fixtures)
        if self.sim == "inprocess":
            install_simulation()  # the demo's ``simulated`` fixture kind
            self._station = Station.open(config, data_dir=data, timing=self.timing)
            return
        with self._hosted_kind():
            self._station = Station.open(self._hosted_config(config, data), data_dir=data, timing=self.timing)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._station is not None:
            self._station.close()
        if self.host is not None:
            self.host.stop()
        if self._folder is not None:
            self._folder.cleanup()

    def stagger(self, spread: float) -> None:
        """Take every unit out and plug slot i's back in after i/N of ``spread`` seconds.

        All slots starting at once keep the same step in lock-step (every unit derives its key in the same
        second); on a running line units arrive spread over a unit's time, which this imitates.
        """
        for index, fixture in enumerate(self.station.fixtures):
            delay = index * spread / self.fixtures
            if self.host is not None:
                self.host.unplug(index, delay)
            else:
                fixture.swap.device.unplug(replug_after=delay)  # type: ignore[union-attr]  # FreshUnitSwap

    def run(self, units: int, deadline: float = RUN_DEADLINE) -> RunMeasure:
        """Provision ``units`` units; stops the station (and raises) if they are not done by ``deadline``."""
        watchdog = threading.Timer(deadline, self.station.stop)
        self._first, self._last = {}, {}
        self.station.bus.subscribe(self._observe)
        sim_before = self.host.cpu_seconds() if self.host else None
        wall, cpu, usage, machine = time.perf_counter(), time.process_time(), _rusage_cpu(), _machine_busy()
        watchdog.start()
        try:
            verdicts = self.station.run(units=units)
        finally:
            watchdog.cancel()
            self.station.bus.unsubscribe(self._observe)
        wall, cpu, usage = time.perf_counter() - wall, time.process_time() - cpu, _rusage_cpu() - usage
        busy = _machine_busy()
        machine = busy - machine if busy is not None and machine is not None else None
        sim_cpu = self.host.cpu_seconds() - sim_before if self.host and sim_before is not None else None
        tally = self.station.tally  # counts every unit; a long run returns only its latest verdicts
        assert tally is not None  # the run made it
        failed = [v for v in verdicts if v.outcome is not Outcome.PASS]
        if failed or tally.counts[Outcome.PASS] < tally.total:
            raise RuntimeError(
                f"{tally.total - tally.counts[Outcome.PASS]} of {tally.total} units did not pass with "
                f"{self.fixtures} fixtures (first kept: {failed[0].failure if failed else 'not kept'}); "
                "the figures would mislead, so the run was stopped"
            )
        if tally.total < units:
            raise RuntimeError(f"only {tally.total} of {units} units finished within {deadline:g} s")
        spans = tuple(
            SlotSpan(slot, sum(v.slot == slot for v in verdicts), self._last[slot] - first)
            for slot, first in self._first.items()
        )
        return RunMeasure(
            self.fixtures, units, self.sim, wall, cpu, usage, sim_cpu, machine, tuple(verdicts), spans
        )

    def _observe(self, event: Event) -> None:
        """Note each slot's first start and last verdict; stop at the first failed unit (it voids the
        figures, and a slot would wait for a swap that never comes)."""
        if isinstance(event, RunStarted):
            self._first.setdefault(event.slot, event.at)
        elif isinstance(event, RunFinished):
            self._last[event.slot] = event.at
            if event.outcome is not Outcome.PASS:
                self.station.stop()

    def _hosted_config(self, config: StationConfig, data: Path) -> StationConfig:
        """The demo configuration with slots of the bench's kind, one per unit of a started ``SimHost``."""
        checkin = open_key(config.keys.checkin, data, setting="keys.checkin").x25519()  # created if new
        self.host = SimHost(self.fixtures, backend_key=x25519_public_key(checkin), timing=self.timing).start()
        slots = tuple(
            FixtureConfig(slot=fixture.slot, kind=HOSTED_KIND, url=url)
            for fixture, url in zip(config.fixtures, self.host.urls, strict=True)
        )
        return dataclasses.replace(config, fixtures=slots)

    @contextmanager
    def _hosted_kind(self) -> Iterator[None]:
        """Register the bench's fixture kind while the station builds its fixtures (and only then)."""
        registry.register(HOSTED_KIND, self._hosted_fixture)
        try:
            yield
        finally:
            registry.unregister(HOSTED_KIND)

    def _hosted_fixture(self, config: FixtureConfig, context: registry.FixtureContext, index: int) -> Fixture:
        """A ``network`` fixture whose operator swaps the unit on the child after each verdict."""
        assert self.host is not None
        fixture = network.create(config)
        fixture.swap, fixture.simulated = _HostSwap(self.host, index), True
        return fixture


class _HostSwap:
    """The slot's operator for units in a ``SimHost``: a fresh unit right after the verdict."""

    def __init__(self, host: SimHost, slot: int) -> None:
        self.host, self.slot = host, slot

    def release(self) -> None:
        self.host.replug(self.slot)


def _machine_busy() -> float | None:
    """Busy CPU seconds of the whole machine since boot: user+nice+system+irq+softirq+steal of /proc/stat."""
    try:
        with Path("/proc/stat").open() as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _rusage_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def profiled_threads() -> Iterator[list[cProfile.Profile]]:
    """Profile, by thread CPU time, every thread started inside the block (the slot workers)."""
    profiles: list[cProfile.Profile] = []
    original = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profiles.append(profiler)
        profiler.enable()
        try:
            original(thread)
        finally:
            profiler.disable()

    setattr(threading.Thread, "run", run)  # noqa: B010 - a method swap that mypy cannot type
    try:
        yield profiles
    finally:
        setattr(threading.Thread, "run", original)  # noqa: B010
