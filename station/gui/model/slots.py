"""What each slot shows, from the engine's events: the Qt-free model behind a tile and the detail panel.

>>> model = SlotModel("A1")
>>> model.apply(RunStarted("A1", 2.0, "run-2", "production", steps=("identify",)))
>>> model.apply(Fault("A1", 4.0, FaultKind.STATION, "records disk full", "run-2"))   # never a stale RUNNING
>>> model.view(5.0).state, model.acknowledge(), model.view(5.0).instruction          # seen: where it goes
(<TileState.FAULT: 'fault'>, True, 'Take out → line engineer')
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from station.core.events import (
    AlreadyPassed,
    Event,
    Fault,
    FaultKind,
    LogLine,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
    StepFinished,
    StepStarted,
    UnitIdentified,
)
from station.core.text import printable
from station.gui.model import words
from station.gui.model.palette import TileState
from station.gui.model.verdicts import MODE_PREFIX, Advice, destination, verdict_advice

PASS_HOLD = 3.0  # seconds a PASS stays visible although the next unit already runs
LOG_LINES = 500  # per slot, for the detail panel
SCAN_ASKED = "scan the inventory label"  # the readers flow's log line while it waits for a scan
SCAN_PROMPT = "Scan the reader's inventory label"
TEXT_LIMIT = 1000  # characters of one message kept for the tile, the detail panel and the slot's log

_VERDICT_STATES = {Outcome.PASS: TileState.PASS, Outcome.FAIL: TileState.FAIL}


@dataclass
class StepLine:
    """One entry of a unit's timeline; ``outcome`` is None while the step runs."""

    name: str
    attempts: int
    outcome: Outcome | None = None
    seconds: float | None = None
    message: str = ""


@dataclass
class RunView:
    """One unit's pass through the pipeline, as the window has seen it so far."""

    run_id: str
    steps: tuple[str, ...]
    started: float
    resumed: bool = False
    mode: str = "production"  # production | qa | rma | readers (RunStarted.mode)
    prompt: str = ""  # what the unit waits for from the operator now (a passphrase, a scan)
    unit_id: str | None = None
    step: str | None = None
    timeline: list[StepLine] = field(default_factory=list)
    outcome: Outcome | None = None
    finished: float | None = None
    record_id: str | None = None
    failed_step: str | None = None
    message: str = ""
    code: str | None = None  # the failure's code (RunFinished.failure_code)
    fault: FaultKind | None = None  # the station could not finish it (STATION) or stopped mid-write
    label_fault: str = ""  # it passed, its label did not print (why, for the panel)

    @property
    def done(self) -> int:
        """How many distinct steps have passed (a retried group repeats steps; count each once)."""
        return len({line.name for line in self.timeline if line.outcome is Outcome.PASS})

    def seconds(self, now: float) -> float:
        return (self.finished or now) - self.started

    @property
    def needs_operator(self) -> bool:
        if self.label_fault:
            return True
        return self.outcome is not None and self.outcome is not Outcome.PASS

    @property
    def state(self) -> TileState:
        if self.fault is FaultKind.STATION:
            return TileState.FAULT
        if self.fault is FaultKind.INTERRUPTED:
            return TileState.ATTENTION
        if self.outcome is None:
            return TileState.ATTENTION if self.prompt else TileState.RUNNING
        return _VERDICT_STATES.get(self.outcome, TileState.ATTENTION)

    def advice(self) -> Advice:
        """The reason and the instruction of a finished run, faults included: one sentence, no codes."""
        if self.fault is FaultKind.STATION:
            return Advice(*words.STATION_FAULT)
        if self.fault is FaultKind.INTERRUPTED:
            return Advice(*words.INTERRUPTED)
        if self.label_fault:
            return Advice(*words.LABEL_FAULT)
        steps = {line.name: line.message for line in self.timeline}
        outcome = self.outcome or Outcome.ERROR
        return verdict_advice(self.mode, outcome, self.failed_step, self.message, steps, code=self.code)


@dataclass(frozen=True)
class TileView:
    """Everything a tile draws; equal views mean nothing to redraw."""

    state: TileState
    unit_id: str = ""
    step: str = ""
    progress: tuple[int, int] | None = None
    elapsed: str = ""
    reason: str = ""
    instruction: str = ""
    note: str = ""
    mode: str = ""  # the state word's prefix: "QA ", "RMA " (production and readers: none)
    asking: bool = False  # ATTENTION because the unit waits for an answer now (not a finished unit)
    flagged: bool = False  # a PASS with something left to do (its label did not print): striped


class SlotModel:
    """One slot's runs and log; ``apply`` takes every event of the slot, in order."""

    def __init__(self, slot: str) -> None:
        self.slot = slot
        self.present = False
        self.finished_unit_in_slot = False  # a verdict was given; the unit has not been taken out yet
        self.live: RunView | None = None  # the unit being provisioned now
        self.alert: RunView | None = None  # a FAIL/ATTENTION not yet acknowledged
        self.passed: RunView | None = None  # the last PASS, until its unit is removed
        self.last: RunView | None = None  # the last finished run, whatever its outcome
        self.destination = ""  # where the acknowledged unit goes ("Take out → QA"), until it is out
        self.slot_fault = ""  # why the slot's fixture does not respond ("" when it does)
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.logged = 0  # lines ever appended; a reader keeps its count to fetch only new ones
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            SlotChanged: self._slot_changed,
            RunStarted: self._run_started,
            UnitIdentified: self._unit_identified,
            StepStarted: self._step_started,
            StepFinished: self._step_finished,
            RunFinished: self._run_finished,
            AlreadyPassed: self._already_passed,
            LogLine: self._log_line,
            Fault: self._fault,
        }

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def acknowledge(self) -> bool:
        """The operator has seen the FAIL/ATTENTION/fault and says so (Space, or Done in the panel); False
        if there was nothing to acknowledge. The tile then keeps where the unit goes until it is out."""
        alert, self.alert = self.alert, None
        if alert is None:
            return False
        if alert.label_fault:
            alert.label_fault = ""  # seen: the PASS shows as a PASS again until the unit is removed
        elif self.finished_unit_in_slot:
            self.destination = destination(alert.advice().instruction)
        return True

    def ask(self, prompt: str) -> None:
        """The unit in the slot waits for the operator (``prompt`` says for what); "" when answered."""
        if self.live is not None:
            self.live.prompt = prompt

    def shown_run(self, now: float) -> RunView | None:
        """The run the tile shows: an alert, else a fresh PASS, else the live run, else the last PASS or
        the acknowledged run still in the slot."""
        if self.alert is not None:
            return self.alert
        fresh = self.passed is not None and now - (self.passed.finished or now) < PASS_HOLD
        if self.live is not None and not fresh:
            return self.live
        if self.passed is not None or self.live is not None:
            return self.passed or self.live
        return self.last if self.destination else None

    def view(self, now: float | None = None) -> TileView:
        now = time.time() if now is None else now
        run = self.shown_run(now)
        if run is not None and run.outcome is None:
            return _running_view(run, now)
        if run is not None and not (self.destination and run is self.last and run is not self.passed):
            return self._finished_view(run, now)
        if self.destination:  # acknowledged: where the unit goes, until it is out
            unit = run.unit_id or "" if run is not None else ""
            return TileView(TileState.WAITING, unit_id=unit, reason="Seen", instruction=self.destination)
        if self.slot_fault:
            return TileView(TileState.OFFLINE, reason=words.SLOT_FAULT[0], instruction=words.SLOT_FAULT[1])
        if self.finished_unit_in_slot:
            return TileView(TileState.WAITING, instruction=words.TAKE_OUT)
        if self.present:
            return TileView(TileState.WAITING, step="Unit detected, starting")
        return TileView(TileState.EMPTY, instruction=words.INSERT)

    def _finished_view(self, run: RunView, now: float) -> TileView:
        notes = [words.ACKNOWLEDGE] if run.needs_operator else []
        if run.needs_operator and self.live is not None:
            step = words.step_title(self.live.step) or "starting"
            notes.append(f"Next unit: {step} {_position(self.live)}")
        advice = run.advice()
        return TileView(
            run.state,
            unit_id=run.unit_id or "",
            elapsed=f"{run.seconds(now):.0f} s",
            reason=advice.reason,
            instruction=advice.instruction,
            note="  ·  ".join(notes),
            mode=MODE_PREFIX.get(run.mode, ""),
            flagged=bool(run.label_fault),
        )

    # --- events --------------------------------------------------------------------------------------

    def _slot_changed(self, event: SlotChanged) -> None:
        if event.state is SlotState.EMPTY:
            self.present = self.finished_unit_in_slot = False
            self.passed = None  # PASS clears itself when the unit is removed
            self.destination = ""  # the acknowledged unit is out
        elif event.state is SlotState.PRESENT:
            self.present = True

    def _run_started(self, event: RunStarted) -> None:
        self.live = RunView(event.run_id, event.steps, event.at, resumed=event.resumed, mode=event.mode)
        self.finished_unit_in_slot = False
        self.destination = ""  # a new unit is in: the last one is out
        self._log(_stamp(event.at, f"unit started{' (resumed)' if event.resumed else ''}"))

    def _unit_identified(self, event: UnitIdentified) -> None:
        if self.live is not None and self.live.run_id == event.run_id:
            self.live.unit_id = _shown(event.unit_id)

    def _step_started(self, event: StepStarted) -> None:
        run = self.live
        if run is None or run.run_id != event.run_id:
            return
        run.step = event.step
        if event.attempt == 1:
            run.timeline.append(StepLine(event.step, 1))
        elif run.timeline and run.timeline[-1].name == event.step:
            run.timeline[-1].attempts = event.attempt

    def _step_finished(self, event: StepFinished) -> None:
        run = self.live
        if run is None or run.run_id != event.run_id:
            return
        line = run.timeline[-1] if run.timeline and run.timeline[-1].name == event.step else None
        if line is None:
            line = StepLine(event.step, event.attempts)
            run.timeline.append(line)
        line.outcome, line.attempts = event.outcome, event.attempts
        line.seconds, line.message = event.seconds, _shown(event.message)
        run.prompt = ""  # whatever the step waited for, it has it (or gave up)

    def _run_finished(self, event: RunFinished) -> None:
        run = self.live if self.live is not None and self.live.run_id == event.run_id else None
        if run is None:  # a run the window did not see start (opened mid-run)
            run = RunView(event.run_id, (), event.at)
        run.outcome, run.finished, run.record_id = event.outcome, event.at, event.record_id
        run.unit_id = _shown(event.unit_id) or run.unit_id
        run.failed_step = None if event.failed_step is None else _shown(event.failed_step)
        run.message = _shown(event.message)
        run.code = event.failure_code
        self.live, self.last = None, run
        self.finished_unit_in_slot = True
        if run.needs_operator:
            self.alert, self.passed = run, None  # the slot's unit is this one now, not the last PASS
        else:
            self.passed = run
        verdict = f"{event.outcome.upper()} {run.unit_id or ''}".strip()
        reason = (
            f": {words.failure_text(run.failed_step, run.message, run.code)}" if run.needs_operator else ""
        )
        self._log(_stamp(event.at, verdict + reason))

    def _already_passed(self, event: AlreadyPassed) -> None:
        """A unit that passed before and is unchanged: PASS again until it is removed (no run, no record)."""
        run = RunView(event.record_id, (), event.at, unit_id=_shown(event.unit_id) or None)
        run.outcome, run.finished, run.record_id = Outcome.PASS, event.at, event.record_id
        run.message = _shown(event.message)
        self.live, self.last, self.passed = None, run, run
        self.finished_unit_in_slot = True
        self._log(_stamp(event.at, f"PASS {run.unit_id or 'unit'}: {run.message}"))

    def _fault(self, event: Fault) -> None:
        if event.kind is FaultKind.SLOT:
            self.slot_fault = "" if event.cleared else _shown(event.message) or "no answer"
            return
        if event.kind is FaultKind.LABEL:
            self._label_fault(event)
            return
        live = self.live  # STATION / INTERRUPTED: the unit's run will not finish; never a stale RUNNING
        run = live if live is not None else RunView(event.run_id or "", (), event.at)
        run.fault, run.outcome, run.finished = event.kind, Outcome.ERROR, event.at
        run.message = _shown(event.message)
        self.live, self.last, self.alert, self.passed = None, run, run, None
        self.finished_unit_in_slot = True
        self._log(
            _stamp(
                event.at,
                f"{words.STATION_FAULT[0] if event.kind is FaultKind.STATION else 'STOPPED'}: {run.message}",
            )
        )

    def _label_fault(self, event: Fault) -> None:
        run = next((r for r in (self.passed, self.last) if r is not None and r.run_id == event.run_id), None)
        if run is None:
            return
        if event.cleared:
            run.label_fault = ""
            if self.alert is run:
                self.alert = None
            return
        run.label_fault = _shown(event.message) or "label not printed"
        self.alert = run

    def label_reprinted(self, record_id: str) -> bool:
        """A reprint of ``record_id`` went out: its PASS no longer asks for one. False if none did."""
        for run in (self.alert, self.passed, self.last):
            if run is not None and run.record_id == record_id and run.label_fault:
                run.label_fault = ""
                if self.alert is run:
                    self.alert = None
                return True
        return False

    def new_log_lines(self, seen: int) -> list[str]:
        """Lines appended since a reader had seen ``seen`` of them (older ones may have rotated out)."""
        fresh = min(self.logged - seen, len(self.log))
        return list(self.log)[len(self.log) - fresh :] if fresh > 0 else []

    def _log(self, line: str) -> None:
        self.log.append(line)
        self.logged += 1

    def _log_line(self, event: LogLine) -> None:
        level = "" if event.level == "info" else f"{event.level.upper()} "
        self._log(_stamp(event.at, level + _shown(event.message)))
        if event.message.startswith(SCAN_ASKED):
            self.ask(SCAN_PROMPT)


def _running_view(run: RunView, now: float) -> TileView:
    minutes, seconds = divmod(int(run.seconds(now)), 60)
    return TileView(
        run.state,  # RUNNING, or ATTENTION while the unit waits for the operator (``prompt``)
        unit_id=run.unit_id or "",  # known once the core publishes UnitIdentified
        step=words.step_title(run.step) or "Starting",
        progress=(run.done, len(run.steps)) if run.steps else None,
        elapsed=f"{minutes:02d}:{seconds:02d}",
        instruction=run.prompt,
        note="Resumed after a station stop" if run.resumed else "",
        mode=MODE_PREFIX.get(run.mode, ""),
        asking=bool(run.prompt),
    )


def _position(run: RunView) -> str:
    return f"{run.done}/{len(run.steps)}" if run.steps else ""


def _shown(text: str | None) -> str:
    """A text from the engine's events as the window shows it: a unit's strings reach it through error
    messages and ids, so control characters are escaped (one line, no escape codes) and it is bounded."""
    return "" if text is None else printable(text, TEXT_LIMIT)


def _stamp(at: float, text: str) -> str:
    return f"{time.strftime('%H:%M:%S', time.localtime(at))}  {text}"
