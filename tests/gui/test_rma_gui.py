"""RMA through the window: the customer's passphrase asked in the mode bar, the old record shown superseded.

A station produces one ``network`` unit (it outlives that station, as a returned unit does); the window
then opens the same station for an RMA engineer, who starts in RMA mode. The unit is personalised, so
the flow asks for its customer's passphrase: the slot's tile turns to ATTENTION, the mode bar shows a
masked field; the engineer types it; the unit is wiped and made new, and its old record is marked
superseded in the records view. The passphrase is kept nowhere the window writes or shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.core.events import Outcome
from station.gui.model.opener import StationOpener
from station.gui.model.palette import TileState
from station.gui.workers.session import Session
from station.records.store.sqlite import DEFAULT_FILENAME
from tests.gui.conftest import DEADLINE_MS, RMA_PIN, Gui, log_in
from tests.gui.tables import cell_text
from tests.pipeline import conftest as pipeline
from tests.pipeline.conftest import BATCH_PASSPHRASE, Line, LineFactory

line_factory = pipeline.line_factory  # the pipeline tests' fixture: stations over test-owned units


@pytest.fixture
def returned(line_factory: LineFactory) -> Iterator[tuple[Line, str]]:
    """A station that has produced one network unit; the production record's id."""
    line = line_factory(network=[{}])
    (made,) = line.run()
    assert made.outcome is Outcome.PASS, made.failure
    line.station.close()  # the window opens the station again, for the RMA engineer
    yield line, made.record.record_id


def rma_session(qtbot: QtBot, gui: Gui, line: Line) -> Session:
    opener = StationOpener(line.config, environ=line.environ, timing="fast")
    session = gui.login_session(opener, units=1)
    session.start()
    log_in(qtbot, session, "R0003", RMA_PIN)
    return session


def test_the_passphrase_is_asked_in_the_window_and_the_old_record_is_superseded(
    qtbot: QtBot, gui: Gui, returned: tuple[Line, str]
) -> None:
    line, production_id = returned
    session = rma_session(qtbot, gui, line)
    window = session.window
    assert window.header.current_mode == "rma"  # an RMA engineer starts in RMA
    assert window.mode_bar.accept_unknown.isVisible()
    tile = window.grid.tile("N1")
    qtbot.waitUntil(lambda: bool(window.mode_bar.questions), timeout=DEADLINE_MS)
    assert tile.view is not None and tile.view.state is TileState.ATTENTION
    assert tile.texts()["word"] == "?  ANSWER"  # waiting for an answer, not a finished unit
    assert tile.texts()["instruction"] == "Type the customer's passphrase (bar above)"
    question = window.mode_bar.question.text()
    assert re.match(r"Slot N1 — unit [0-9a-f]{16} “Line Seven”", question)  # devid and label, not the eid
    assert "left" in window.mode_bar.countdown.text()
    field = window.mode_bar.passphrase
    assert field.echoMode() is field.EchoMode.Password
    # Issue 18's security bug: an F-key moved the focus and the passphrase landed in the scan field.
    window.grid.tile("N1").setFocus()
    qtbot.keyClick(window.grid.tile("N1"), Qt.Key.Key_F1)  # no shortcut fires while the question is open
    qtbot.keyClicks(window.grid.tile("N1"), "typed-on-a-tile")  # every keystroke goes to the question
    assert window.header.scan.text() == ""
    assert field.text() == "typed-on-a-tile" and field.hasFocus()
    field.clear()
    qtbot.keyClicks(field, BATCH_PASSPHRASE)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == "" and not window.mode_bar.questions

    runner = session.runner
    assert runner is not None
    qtbot.waitUntil(lambda: not runner.running, timeout=DEADLINE_MS)
    qtbot.waitUntil(lambda: tile.view is not None and tile.view.state is TileState.PASS)
    assert tile.texts()["word"] == "✔  PASS"
    assert tile.texts()["slot"] == "N1 · RMA"  # the mode on the slot's line, the word at full size
    assert tile.texts()["reason"] == f"Supersedes production record {production_id[:8]}…"

    records = window.dialogs.open_records()
    qtbot.waitUntil(lambda: records.table.rowCount() == 2, timeout=DEADLINE_MS)
    links = {cell_text(records.table, row, 5): cell_text(records.table, row, 6) for row in range(2)}
    rma_id = next(record_id for record_id in links if record_id != production_id)
    assert links[production_id] == f"SUPERSEDED by {rma_id[:8]}…"
    assert links[rma_id] == f"supersedes {production_id[:8]}…"
    with qtbot.waitSignal(records.shown, timeout=DEADLINE_MS):
        records.select_row(0 if records.records[0].record_id == production_id else 1)
    assert f"SUPERSEDED by record {rma_id}" in records.verdict.text()

    shown = [window.log_strip.toPlainText(), window.mode_bar.question.text(), records.text.toPlainText()]
    assert not [text for text in shown if BATCH_PASSPHRASE in text]
    files = [path.read_bytes() for path in Path(line.data_dir).glob(f"{DEFAULT_FILENAME}*")]
    assert not [blob for blob in files if BATCH_PASSPHRASE.encode() in blob]


def test_an_unknown_unit_is_refused_until_accepted_then_made_new_and_recorded_as_accepted(
    qtbot: QtBot, gui: Gui
) -> None:
    session = gui.login_session(gui.demo_opener(fixtures=1), units=None)  # new demo units: no record of them
    session.start()
    log_in(qtbot, session, "R0003", RMA_PIN)
    window, tile = session.window, session.window.grid.tile("A1")
    qtbot.waitUntil(lambda: tile.view is not None and tile.view.state is TileState.FAIL, timeout=DEADLINE_MS)
    assert tile.texts()["word"] == "✖  FAIL"
    assert tile.texts()["reason"] == "Unknown unit: no passing record of it on this line"
    assert "switch “Accept unknown units” ON" in tile.texts()["instruction"]

    window.mode_bar.accept_unknown.setChecked(True)  # the RMA engineer takes such units in
    station = session.station
    assert station is not None and station.rma.unknown_unit == "accept"  # from the next unit on

    def accepted() -> bool:
        return any(r.outcome == "pass" and r.mode == "rma" for r in session.checker.store.records())

    qtbot.waitUntil(accepted, timeout=DEADLINE_MS)
    record = next(r for r in session.checker.store.records() if r.outcome == "pass")
    history = next(step for step in record.payload["steps"] if step["name"] == "history")
    assert history["detail"]["decision"] == "accept-unknown-unit"
    assert record.payload["operator"] == {"id": "R0003", "role": "rma"}
    window.header.logout.click()  # the accepting ends with the session: the next one refuses again
    assert not window.mode_bar.accept_unknown.isChecked()
