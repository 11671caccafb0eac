"""How long the operator window's event loop stalls while 32 simulated fixtures run (target: p99 < 50 ms).

Example::

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.gui_stall                 # 32 fixtures, 96 units
    .venv/bin/python -m bench.gui_stall --fixtures 8 --units 24 --timing realistic

The whole ``station gui`` stack runs in this process: the demo station (``realistic`` timing scaled by
``--timing``, default ``realistic*0.25`` so a run takes about a minute), its slot threads, the bridge and
the window with one tile per fixture, rendered offscreen. The simulated units run in a child process by
default (``--sim process``, ``bench/harness.py``), as real units are hardware outside the station's
process; ``--sim inprocess`` keeps them in (the ``station gui --demo`` setup: their server threads then
compete with the GUI thread for the GIL too). A precise 5 ms QTimer
in the GUI thread notes each time it fires; a tick's lateness is the gap since the previous tick minus
5 ms, i.e. how long the loop was busy (redrawing, applying events) or waiting for the GIL or a core.
The first ``BASELINE_S`` seconds measure the same timer with the window idle, before the station starts:
what the machine alone costs (on a shared 2-core VM that is not nothing). Printed, not asserted: p50,
p99 and the maximum lateness for both phases, and the engine events the window applied.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from bench.harness import RESULT_PREFIX, BenchStation
from station.core.events import Event
from station.gui.workers.session import Session

TICK_MS = 5
BASELINE_S = 5.0
TARGET_P99_MS = 50.0


class StallMeter(QObject):
    """A 5 ms precise timer in the GUI thread; records how late each tick came."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness_ms: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last) * 1000.0 - TICK_MS))
        self._last = now


class Starter(QObject):
    """Starts the session once the idle baseline is measured, and notes where the baseline ends."""

    def __init__(self, session: Session, meter: StallMeter) -> None:
        super().__init__()
        self.session, self.meter = session, meter
        self.split = 0
        self.started = 0.0

    def start(self) -> None:
        self.split = len(self.meter.lateness_ms)
        self.started = time.perf_counter()
        self.session.start()


class EventCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def take(self, event: Event) -> None:
        self.count += 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=int, default=32)
    parser.add_argument("--units", type=int, default=96, help="units in all (default: 3 per fixture)")
    parser.add_argument("--timing", default="realistic*0.25", help="simulated unit timing profile")
    parser.add_argument("--sim", choices=("process", "inprocess"), default="process", help="where units run")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with BenchStation(fixtures=args.fixtures, timing=args.timing, sim=args.sim) as bench:
        session = Session(bench.station, units=args.units)
        session.window.resize(1600, 1000)
        meter, events = StallMeter(), EventCounter()
        session.bridge.engine_event.connect(events.take)
        session.runner.stopped.connect(app.quit)
        starter = Starter(session, meter)
        session.window.show()
        meter.start()
        QTimer.singleShot(int(BASELINE_S * 1000), starter.start)
        app.exec()
        elapsed = time.perf_counter() - starter.started
        passed = session.window.counters.passed
        session.shutdown()
    print(
        f"gui stall: {args.fixtures} fixtures, {args.units} units ({passed} passed), "
        f"timing {args.timing}, simulated units {args.sim}"
    )
    idle, running = meter.lateness_ms[: starter.split], meter.lateness_ms[starter.split :]
    report(f"idle window, {BASELINE_S:g} s (machine noise)", idle)
    report(f"station running, {elapsed:.1f} s, {events.count} events", running)
    if idle and running:  # for bench.run's summary table
        result = {
            "fixtures": args.fixtures,
            "p99_ms": percentile(running, 0.99),
            "idle_p99_ms": percentile(idle, 0.99),
        }
        print(RESULT_PREFIX, json.dumps(result), flush=True)
    return 0 if passed == args.units else 1


def report(phase: str, lateness: list[float]) -> None:
    if not lateness:
        print(f"  {phase}: no ticks measured")
        return
    p50, p99, worst = percentile(lateness, 0.50), percentile(lateness, 0.99), max(lateness)
    verdict = "meets" if p99 < TARGET_P99_MS else "misses"
    print(f"  {phase}: {len(lateness)} ticks of {TICK_MS} ms")
    mean = statistics.fmean(lateness)
    print(f"    lateness p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {worst:.1f} ms   mean {mean:.2f} ms")
    print(f"    p99 {verdict} the {TARGET_P99_MS:.0f} ms target")


if __name__ == "__main__":
    sys.exit(main())
