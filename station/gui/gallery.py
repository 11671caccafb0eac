"""``python -m station.gui.gallery DIR``: pictures of every tile state and fault, fed the station's events.

The demo shows a healthy bench; the states a line meets now and then are rendered here for docs/operator.md.

>>> sorted(SCENES)[:3]
['acknowledged', 'bench-32', 'bench-8']
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QWidget

from station.core.events import (
    Fault,
    FaultKind,
    LineSynced,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
    StepFinished,
    StepStarted,
    UnitIdentified,
)
from station.core.operator import Operator
from station.gui.model.windowsetup import WindowSetup
from station.gui.widgets.window import MainWindow
from station.gui.workers.checker import RecordChecker
from station.pipeline.modes.rma.wipe import ReturnedUnit

SIZE = (1600, 1000)
STEPS = ("identify", "firmware", "check-in", "attest", "certificate", "provision", "personalize", "verify")
UNITS = ("2023b758c209269a", "7f01c2aa90d1e355", "5a9e03bd11c72f08", "c0ffee0123456789")


@dataclass
class Bench:
    """A window and the clock the scene's events are stamped with."""

    window: MainWindow
    now: float

    def feed(self, *events: object) -> None:
        for event in events:
            self.window.apply(event)  # type: ignore[arg-type]

    def running(self, slot: str, step: int, unit: str = UNITS[1], started: float = 75.0) -> None:
        run_id = f"run-{slot}"
        at = self.now - started
        self.feed(
            SlotChanged(slot, at, SlotState.PRESENT),
            RunStarted(slot, at, run_id, "production", STEPS),
            UnitIdentified(slot, at, run_id, unit),
        )
        for name in STEPS[:step]:
            self.feed(
                StepStarted(slot, at, run_id, name, 1),
                StepFinished(slot, at, run_id, name, Outcome.PASS, 1, 2.0),
            )
        self.feed(StepStarted(slot, at, run_id, STEPS[step], 1))

    def finished(
        self, slot: str, outcome: Outcome, *, step: int = 7, code: str | None = None, message: str = ""
    ) -> None:
        self.running(slot, step, UNITS[2] if outcome is not Outcome.PASS else UNITS[0])
        run_id = f"run-{slot}"
        failed = STEPS[step] if outcome is not Outcome.PASS else None
        if failed is not None:
            self.feed(StepFinished(slot, self.now - 2, run_id, failed, outcome, 3, 6.0, message))
        unit = UNITS[2] if outcome is not Outcome.PASS else UNITS[0]
        self.feed(
            RunFinished(slot, self.now - 1, run_id, outcome, unit, f"rec-{slot}", failed, message, code),
        )


def _bench(slots: int, *, labels: bool = True, line: bool = True) -> Bench:
    names = tuple(f"{chr(ord('A') + i // 8)}{i % 8 + 1}" for i in range(slots))
    setup = WindowSetup("line1-st01", "acme-2026-q4", names, "db.line1.example/line" if line else None)
    checker = RecordChecker(store=None, trust=None)  # type: ignore[arg-type]  # nothing is checked here
    window = MainWindow(setup, checker)
    window.detail.check_requested.disconnect()  # no record store behind these pictures
    window.detail.label_requested.disconnect()
    window.detail.labels_enabled = labels
    window.header.set_operator(Operator("B0042", "operator"), ("production",), can_audit=False)
    window.header.show_mode("production")
    window.set_station_check(list, at_start=False)  # the header offers the view (the check scene fills it)
    window.show_station()
    window.resize(*SIZE)
    window.show()  # sized as on the bench before anything opens (the panel's share depends on it)
    QCoreApplication.processEvents()
    bench = Bench(window, time.time())
    if line:
        bench.feed(LineSynced("line", bench.now - 4, reached=True))
    if labels:
        window.header.set_printer("Printer ✔", ok=True)
    return bench


def _mixed(bench: Bench) -> None:
    """One slot per state, then running units: what an 8-fixture bench shows in a bad minute."""
    bench.finished("A1", Outcome.PASS)
    bench.running("A2", 4)
    lost = "POST /api/system/config/provisioning refused with 406"
    bench.finished("A3", Outcome.FAIL, step=5, code="http-406", message=lost)
    bench.running("A4", 6)
    bench.feed(
        Fault(
            "A4",
            bench.now - 3,
            FaultKind.STATION,
            "the station could not finish this unit (RecordError: database or disk is full)",
        )
    )
    bench.feed(Fault("A5", bench.now - 30, FaultKind.SLOT, "the USB hub of port 1-1.5 is gone"))
    bench.finished("A6", Outcome.PASS)
    bench.feed(
        Fault(
            "A6",
            bench.now - 1,
            FaultKind.LABEL,
            "label not printed: printer 10.0.0.9:9100 reports paper out",
            "run-A6",
        )
    )
    bench.running("A7", 2)
    bench.window.models["A7"].ask("Scan the reader's inventory label")
    bench.window.redraw("A7")
    bench.finished(
        "A8", Outcome.ERROR, step=3, code="timeout", message="GET /api/system/status: no answer within 10 s"
    )


def bench_8() -> QWidget:
    bench = _bench(8)
    _mixed(bench)
    bench.window.tick()
    return bench.window


def bench_32() -> QWidget:
    bench = _bench(32)
    _mixed(bench)
    for index in range(8, 32):
        slot = f"{chr(ord('A') + index // 8)}{index % 8 + 1}"
        if index % 7 == 3:
            bench.finished(slot, Outcome.PASS)
        elif index % 11 == 5:
            bench.feed(SlotChanged(slot, bench.now, SlotState.EMPTY))
        else:
            bench.running(slot, index % 8, started=20.0 + index)
    bench.window.tick()
    return bench.window


def panel_32() -> QWidget:
    """The panel of a FAIL, docked below: no tile moved."""
    window = bench_32()
    assert isinstance(window, MainWindow)
    window.open_slot("A3")
    return window


def acknowledged() -> QWidget:
    bench = _bench(8)
    _mixed(bench)
    bench.window.acknowledge("A3")  # Space on A3: the FAIL is seen, its unit goes to QA
    bench.window.acknowledge("A4")
    bench.window.tick()
    return bench.window


def line_offline() -> QWidget:
    bench = _bench(8)
    _mixed(bench)
    bench.feed(
        LineSynced(
            "line",
            bench.now,
            reached=False,
            pending=37,
            message="connection to server at "
            '"db.line1.example" (10.0.0.5), port 5432 failed: FATAL: password authentication '
            'failed for user "station"',
        )
    )
    bench.window.tick()
    return bench.window


def question() -> QWidget:
    bench = _bench(8)
    bench.window.header.show_mode("rma")
    bench.window.mode_bar.show_mode("rma")
    for slot in ("A1", "A2", "A3"):
        bench.running(slot, 0, started=5.0)
    bench.window.models["A1"].ask("Type the customer's passphrase (bar above)")
    unit = ReturnedUnit("A1", eid="ocUklGujYsU8rN2x0+Qe7c1m6v5nq1eJ2h0KjbqfW9o=", label="Line Seven")
    bench.window.mode_bar.ask(unit, devid="2023b758c209269a", wait=100)
    bench.window.tick()
    return bench.window


@dataclass
class _Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def station_check() -> QWidget:
    bench = _bench(8)
    results = [
        _Check("configuration", True, "station.toml reads, 8 fixtures"),
        _Check("records disk", False, "412 MB free on /var/lib/station", "free space: at least 2 GB"),
        _Check("label printer", False, "10.0.0.9:9100 refused the connection", "switch the printer on"),
        _Check("line database", True, "db.line1.example answers, 0 records waiting"),
        _Check("fixtures", True, "8 of 8 slots answer"),
    ]
    bench.window.dialogs.check_source = lambda: results
    view = bench.window.dialogs.open_station_check()
    view.show_results(results)
    return view


SCENES: dict[str, Callable[[], QWidget]] = {
    "bench-8": bench_8,
    "bench-32": bench_32,
    "panel-32": panel_32,
    "acknowledged": acknowledged,
    "line-offline": line_offline,
    "question": question,
    "station-check": station_check,
}


def render(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Render ``names`` (default: every scene) into ``folder`` as ``operator-<name>.png``."""
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or list(SCENES):
        widget = SCENES[name]()
        widget.show()
        for _ in range(3):  # layouts settle over a few turns of the loop
            QCoreApplication.sendPostedEvents()
            QCoreApplication.processEvents()
        path = folder / f"operator-{name}.png"
        if not widget.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
        widget.close()
    return written


if __name__ == "__main__":
    for written_path in render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"), sys.argv[2:] or None):
        print(written_path)
