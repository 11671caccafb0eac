"""Every fault has a state of its own (never a stale RUNNING or a plain EMPTY), and acknowledging is
explicit and keeps where the unit goes until it is out (the Qt-free model behind the tiles; issue 18)."""

from __future__ import annotations

from station.core.events import (
    Fault,
    FaultKind,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
    StepStarted,
)
from station.gui.model import words
from station.gui.model.palette import TileState
from station.gui.model.slots import SlotModel

STEPS = ("identify", "attest", "provision", "verify")
T0 = 1_000_000.0
UNIT = "2023b758c209269a"


def running(model: SlotModel, run_id: str = "r1", at: float = T0) -> None:
    model.apply(SlotChanged("A1", at, SlotState.PRESENT))
    model.apply(RunStarted("A1", at, run_id, "production", STEPS))
    model.apply(StepStarted("A1", at, run_id, "attest", 1))


def test_a_station_fault_ends_running_with_its_own_state_and_one_sentence() -> None:
    """The record disk full: the slot's run never finishes; the tile must not stay on RUNNING."""
    model = SlotModel("A1")
    running(model)
    message = "the station could not finish this unit (RecordError: disk full); set the unit aside ..."
    model.apply(SlotChanged("A1", T0 + 5, SlotState.FAILED, message))
    model.apply(Fault("A1", T0 + 5, FaultKind.STATION, message))
    view = model.view(T0 + 60)
    assert view.state is TileState.FAULT
    assert (view.reason, view.instruction) == words.STATION_FAULT
    assert "RecordError" not in view.reason + view.instruction
    assert model.view(T0 + 600).elapsed == view.elapsed  # the clock has stopped
    assert "disk full" in model.log[-1]  # the panel's log keeps the cause


def test_a_station_fault_before_any_run_still_shows() -> None:
    model = SlotModel("A1")
    model.apply(SlotChanged("A1", T0, SlotState.PRESENT))
    model.apply(Fault("A1", T0 + 1, FaultKind.STATION, "internal error"))
    assert model.view(T0 + 2).state is TileState.FAULT


def test_a_stop_after_writing_asks_to_leave_the_unit_in() -> None:
    model = SlotModel("A1")
    running(model)
    model.apply(Fault("A1", T0 + 5, FaultKind.INTERRUPTED, "stopped during personalize ...", "r1"))
    view = model.view(T0 + 6)
    assert view.state is TileState.ATTENTION
    assert (view.reason, view.instruction) == words.INTERRUPTED


def test_a_slot_that_does_not_respond_is_not_empty() -> None:
    model = SlotModel("A1")
    model.apply(Fault("A1", T0, FaultKind.SLOT, "the USB hub of port 1-1.2 is gone"))
    view = model.view(T0 + 1)
    assert view.state is TileState.OFFLINE
    assert (view.reason, view.instruction) == words.SLOT_FAULT
    model.apply(Fault("A1", T0 + 2, FaultKind.SLOT, cleared=True))  # the hub is back
    assert model.view(T0 + 3).state is TileState.EMPTY


def test_a_pass_whose_label_did_not_print_asks_for_a_reprint_until_seen() -> None:
    model = SlotModel("A1")
    running(model)
    model.apply(RunFinished("A1", T0 + 40, "r1", Outcome.PASS, UNIT, "rec-1"))
    model.apply(Fault("A1", T0 + 40, FaultKind.LABEL, "label not printed: out of paper", "r1"))
    model.apply(RunStarted("A1", T0 + 41, "r2", "production", STEPS))  # the next unit already runs
    view = model.view(T0 + 100)  # long after the PASS hold: it still asks
    assert (view.state, view.flagged) == (TileState.PASS, True)
    assert (view.reason, view.instruction) == words.LABEL_FAULT
    assert model.label_reprinted("rec-1")
    assert model.view(T0 + 101).state is TileState.RUNNING


def test_a_printed_label_clears_the_label_fault() -> None:
    model = SlotModel("A1")
    running(model)
    model.apply(RunFinished("A1", T0 + 40, "r1", Outcome.PASS, UNIT, "rec-1"))
    model.apply(Fault("A1", T0 + 40, FaultKind.LABEL, "label not printed: paper", "r1"))
    model.apply(Fault("A1", T0 + 50, FaultKind.LABEL, "label printed", "r1", cleared=True))
    view = model.view(T0 + 51)
    assert (view.state, view.flagged, view.instruction) == (TileState.PASS, False, words.REMOVE)


def test_after_acknowledging_the_tile_says_where_the_unit_goes_until_it_is_out() -> None:
    model = SlotModel("A1")
    running(model)
    lost = "POST /api/system/config/provisioning refused with 406"
    model.apply(RunFinished("A1", T0 + 40, "r1", Outcome.FAIL, UNIT, "rec-1", "provision", lost, "http-406"))
    assert model.view(T0 + 41).instruction == words.SET_ASIDE
    assert model.acknowledge()
    view = model.view(T0 + 42)
    assert (view.state, view.instruction, view.unit_id) == (TileState.WAITING, "Take out → QA", UNIT)
    assert model.view(T0 + 900).instruction == "Take out → QA"  # however long it takes
    model.apply(SlotChanged("A1", T0 + 901, SlotState.EMPTY))
    assert model.view(T0 + 902).state is TileState.EMPTY


def test_an_acknowledged_station_fault_sends_the_unit_to_the_line_engineer() -> None:
    model = SlotModel("A1")
    running(model)
    model.apply(Fault("A1", T0 + 5, FaultKind.STATION, "boom"))
    assert model.acknowledge()
    assert model.view(T0 + 6).instruction == "Take out → line engineer"


def test_a_unit_waiting_for_an_answer_looks_unlike_a_finished_attention() -> None:
    model = SlotModel("A1")
    running(model)
    model.ask("Scan the reader's inventory label")
    asking = model.view(T0 + 1)
    assert (asking.state, asking.asking) == (TileState.ATTENTION, True)
    model.apply(RunFinished("A1", T0 + 5, "r1", Outcome.ABORTED, UNIT, "rec-1", "inventory", "stopped"))
    finished = model.view(T0 + 6)
    assert (finished.state, finished.asking) == (TileState.ATTENTION, False)
