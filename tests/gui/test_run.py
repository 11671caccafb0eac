"""The window over a running demo station: tiles go RUNNING → PASS; a faulty unit shows FAIL until seen."""

from __future__ import annotations

from typing import cast

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.app.station import Station
from station.core.events import Outcome
from station.gui.model import words
from station.gui.model.palette import TileState
from station.gui.widgets.tile import Tile
from station.gui.workers.session import Session
from station.sim.fixture import FreshUnitSwap
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule
from tests.gui.conftest import DEADLINE_MS, Gui
from tests.gui.tables import cell_text
from tests.pipeline.conftest import quick_retries

LOGGER_KEY = "/api/logger/key"


class StateLog:
    """Every state each tile shows, in order (from the tiles' own ``state_shown`` signal)."""

    def __init__(self, session: Session) -> None:
        self.seen: dict[str, list[str]] = {tile.slot: [] for tile in session.window.grid.tiles}
        for tile in session.window.grid.tiles:
            tile.state_shown.connect(self.record)

    def record(self, slot: str, state: str) -> None:
        self.seen[slot].append(state)


def unit_in(station: Station, index: int = 0) -> SimulatedPpa:
    """The simulated unit in a ``simulated`` fixture (what a test injects faults into)."""
    return cast("FreshUnitSwap", station.fixtures[index].swap).device


def shown(tile: Tile) -> TileState | None:
    """The state ``tile`` shows now (read in a call: a type checker keeps no earlier assert about it)."""
    return tile.view.state if tile.view is not None else None


def run_to_the_end(qtbot: QtBot, session: Session) -> None:
    runner = session.runner
    assert runner is not None  # a session over an open station has its runner at once
    with qtbot.waitSignal(runner.stopped, timeout=DEADLINE_MS) as stopped:
        session.start()
    assert stopped.args == [""]  # a normal end: the units were provisioned, nothing broke


def test_a_demo_run_drives_every_tile_through_running_to_pass(qtbot: QtBot, gui: Gui) -> None:
    session = gui.session(gui.station(fixtures=2), units=2)
    states = StateLog(session)
    run_to_the_end(qtbot, session)

    tiles = session.window.grid.tiles
    qtbot.waitUntil(lambda: all(t.view is not None and t.view.state is TileState.PASS for t in tiles))
    for slot, seen in states.seen.items():
        assert "running" in seen, slot
        assert seen[-1] == "pass", slot
        assert seen.index("running") < seen.index("pass"), slot
    texts = tiles[0].texts()
    assert texts["word"] == "✔  PASS"
    assert texts["instruction"] == words.REMOVE
    assert len(texts["unit"]) == 16  # the device id
    assert session.window.counters.passed == 2
    assert "Passed 2" in session.window.header.counters.text()


@pytest.mark.usefixtures(quick_retries.__name__)  # three garbled reads, without the pauses between
def test_an_injected_fault_shows_fail_with_step_and_reason_until_acknowledged(qtbot: QtBot, gui: Gui) -> None:
    station = gui.station(fixtures=1)
    unit_in(station).faults.add(FaultRule("garbage", path=LOGGER_KEY, times=3))  # every verify attempt
    session = gui.session(station, units=2)  # the first unit fails; the slot's next unit passes
    run_to_the_end(qtbot, session)

    model = session.window.models["A1"]
    assert model.alert is not None and model.alert.outcome is Outcome.FAIL
    assert model.passed is not None and model.passed.outcome is Outcome.PASS
    tile = session.window.grid.tile("A1")
    assert tile.view is not None and tile.view.state is TileState.FAIL  # still, though the next unit passed
    texts = tile.texts()
    assert texts["word"] == "✖  FAIL"
    assert texts["reason"] == "Final check: the unit's answer was garbled"
    assert texts["instruction"] == words.SET_ASIDE
    assert words.ACKNOWLEDGE in texts["note"]

    qtbot.keyClick(tile, Qt.Key.Key_Space)  # the operator has set the unit aside
    assert shown(tile) is TileState.PASS
    assert tile.texts()["instruction"] == words.REMOVE


@pytest.mark.usefixtures(quick_retries.__name__)
def test_clicking_a_failed_tile_opens_its_timeline_and_verified_record(qtbot: QtBot, gui: Gui) -> None:
    station = gui.station(fixtures=1)
    unit_in(station).faults.add(FaultRule("garbage", path=LOGGER_KEY, times=3))
    session = gui.session(station, units=1)
    run_to_the_end(qtbot, session)

    window, tile = session.window, session.window.grid.tile("A1")
    with qtbot.waitSignal(session.checker.checked, timeout=DEADLINE_MS) as checked:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert tile.view is not None and tile.view.state is TileState.FAIL  # opening acknowledges nothing
    assert tile.texts()["instruction"] == words.SET_ASIDE
    panel = window.detail
    assert panel.acknowledge.isVisible()
    assert panel.isVisible()
    table = panel.timeline
    cells = [[cell_text(table, row, column) for column in range(5)] for row in range(table.rowCount())]
    assert cells[0][0] == "Identify"
    step, outcome, _, attempts, message = cells[-1]
    assert (step, outcome, attempts) == ("Final check", "fail", "3")
    assert "not JSON" in message
    record_id, view = checked.args
    assert view.checks.ok
    assert record_id in panel.record.text()
    assert "verified ✔" in panel.record.text()
    assert "FAIL" in panel.log.toPlainText()
    qtbot.mouseClick(panel.acknowledge, Qt.MouseButton.LeftButton)  # "Done": said, not implied
    assert tile.texts()["word"] == "◌  WAITING"
    assert tile.texts()["instruction"] == "Take out → QA"  # where the unit goes, until it is out
