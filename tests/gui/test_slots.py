"""What a tile shows as a slot's events arrive (the Qt-free model behind the tiles)."""

from __future__ import annotations

from station.core.events import (
    AlreadyPassed,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
    StepFinished,
    StepStarted,
)
from station.gui.model import words
from station.gui.model.palette import TileState
from station.gui.model.slots import PASS_HOLD, SlotModel
from station.gui.model.verdicts import ALREADY_PASSED

STEPS = ("identify", "attest", "provision", "verify")
T0 = 1_000_000.0


def run(model: SlotModel, run_id: str, at: float, outcome: Outcome, failed: str | None = None) -> None:
    """A whole unit: started, its steps up to ``failed`` (or all), finished with ``outcome``."""
    model.apply(SlotChanged("A1", at, SlotState.PRESENT))
    model.apply(RunStarted("A1", at, run_id, "production", STEPS))
    for step in STEPS:
        model.apply(StepStarted("A1", at, run_id, step, 1))
        done = Outcome.FAIL if step == failed else Outcome.PASS
        model.apply(StepFinished("A1", at, run_id, step, done, 1, 0.1, "refused with 406"))
        if step == failed:
            break
    message = "POST /api/system/config/provisioning refused with 406" if failed else ""
    unit = "2023b758c209269a"
    model.apply(RunFinished("A1", at + 40, run_id, outcome, unit, f"rec-{run_id}", failed, message))


def test_a_slot_starts_empty_and_asks_for_a_unit() -> None:
    view = SlotModel("A1").view(T0)
    assert view.state is TileState.EMPTY
    assert view.instruction == words.INSERT


def test_a_running_unit_shows_its_step_and_progress() -> None:
    model = SlotModel("A1")
    model.apply(RunStarted("A1", T0, "r1", "production", STEPS))
    model.apply(StepStarted("A1", T0, "r1", "identify", 1))
    model.apply(StepFinished("A1", T0 + 1, "r1", "identify", Outcome.PASS, 1, 1.0))
    model.apply(StepStarted("A1", T0 + 1, "r1", "attest", 1))
    view = model.view(T0 + 27)
    assert (view.state, view.step) == (TileState.RUNNING, "Attestation")
    assert (view.progress, view.elapsed) == ((1, 4), "00:27")


def test_a_failure_names_step_and_reason_and_stays_until_acknowledged() -> None:
    model = SlotModel("A1")
    run(model, "r1", T0, Outcome.FAIL, failed="provision")
    model.apply(RunStarted("A1", T0 + 41, "r2", "production", STEPS))  # the next unit already runs
    view = model.view(T0 + 500)
    assert view.state is TileState.FAIL
    assert view.reason == "Provisioning: the unit refused the request"
    assert view.instruction == words.SET_ASIDE
    assert "Next unit" in view.note
    assert model.acknowledge()
    assert model.view(T0 + 500).state is TileState.RUNNING
    assert not model.acknowledge()


def test_an_unreachable_unit_asks_for_attention_and_the_cable() -> None:
    model = SlotModel("A1")
    model.apply(RunStarted("A1", T0, "r1", "production", STEPS))
    lost = "GET /api/system/config/attestation: connection refused"
    model.apply(RunFinished("A1", T0 + 5, "r1", Outcome.ERROR, None, "rec", "attest", lost))
    view = model.view(T0 + 6)
    assert view.state is TileState.ATTENTION
    assert view.instruction == words.CHECK_CABLE


def test_a_pass_shows_remove_unit_and_clears_when_the_unit_is_removed() -> None:
    model = SlotModel("A1")
    run(model, "r1", T0, Outcome.PASS)
    view = model.view(T0 + 60)
    assert (view.state, view.unit_id, view.instruction) == (TileState.PASS, "2023b758c209269a", words.REMOVE)
    model.apply(SlotChanged("A1", T0 + 61, SlotState.EMPTY))
    assert model.view(T0 + 61).state is TileState.EMPTY


def test_a_unit_that_passed_before_shows_pass_again_until_it_is_removed() -> None:
    model = SlotModel("A1")
    model.apply(SlotChanged("A1", T0, SlotState.PRESENT))
    model.apply(SlotChanged("A1", T0, SlotState.DONE))
    model.apply(AlreadyPassed("A1", T0, "2023b758c209269a", "rec-1"))
    view = model.view(T0 + 600)  # it stays: nothing runs until the operator takes the unit out
    assert (view.state, view.unit_id, view.instruction) == (TileState.PASS, "2023b758c209269a", words.REMOVE)
    assert view.reason == ALREADY_PASSED
    assert model.log[-1].endswith("PASS 2023b758c209269a: already passed — remove unit (no new record)")
    assert model.acknowledge() is False  # nothing to acknowledge: a pass
    model.apply(SlotChanged("A1", T0 + 601, SlotState.EMPTY))
    assert model.view(T0 + 601).state is TileState.EMPTY


def test_a_pass_stays_a_moment_when_the_next_unit_starts_at_once() -> None:
    model = SlotModel("A1")
    run(model, "r1", T0, Outcome.PASS)
    model.apply(RunStarted("A1", T0 + 40, "r2", "production", STEPS))
    assert model.view(T0 + 40).state is TileState.PASS
    assert model.view(T0 + 40 + PASS_HOLD).state is TileState.RUNNING


def test_the_slot_log_hands_out_only_new_lines() -> None:
    model = SlotModel("A1")
    run(model, "r1", T0, Outcome.PASS)
    seen = model.logged
    run(model, "r2", T0 + 50, Outcome.PASS)
    fresh = model.new_log_lines(seen)
    assert len(fresh) == 2
    assert "PASS" in fresh[-1]
