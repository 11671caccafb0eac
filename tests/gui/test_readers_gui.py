"""Reader slots beside PPA slots: the mixed demo passes both; a scan with a reader slot focused is its label
(the scanning rule of ``window.py``)."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.gui.model.palette import TileState
from station.gui.widgets.tile import Tile
from tests.gui.conftest import DEADLINE_MS, OPERATOR_PIN, Gui, log_in


def test_the_mixed_demo_passes_reader_slots_beside_ppa_slots(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(fixtures=4, family="mixed"), units=4)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    runner = session.runner
    assert runner is not None
    qtbot.waitUntil(lambda: not runner.running, timeout=DEADLINE_MS)

    window = session.window
    assert window.setup.readers == ("R1", "R2")
    records = {record.payload["fixture"]["slot"]: record for record in session.checker.store.records()}
    assert set(records) == {"A1", "A2", "R1", "R2"}
    for slot in ("R1", "R2"):
        tile = window.grid.tile(slot)

        def passed(tile: Tile = tile) -> bool:
            return tile.view is not None and tile.view.state is TileState.PASS

        qtbot.waitUntil(passed)
        texts = tile.texts()
        record = records[slot]
        assert texts["slot"] == f"{slot} · reader"
        assert texts["word"] == "✔  PASS"
        assert record.mode == "readers" and record.outcome == "pass"
        assert record.payload["operator"] == {"id": "B0042", "role": "operator"}
        serial = texts["unit"]
        assert texts["reason"] == f"Inventory DEMO-{serial}"  # the demo profile: prefix + serial
    assert records["A1"].mode == "production" and window.grid.tile("A1").texts()["slot"] == "A1"


def test_a_code_scanned_with_a_reader_slot_focused_becomes_its_inventory_number(
    qtbot: QtBot, gui: Gui
) -> None:
    opener = gui.demo_opener(fixtures=1, family="readers")
    config = opener.config
    scanned = dataclasses.replace(config.reader_profiles["default"], inventory="scanned")
    opener = dataclasses.replace(
        opener, config=dataclasses.replace(config, reader_profiles={"default": scanned})
    )
    session = gui.login_session(opener, units=1)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)

    window, tile = session.window, session.window.grid.tile("R1")
    qtbot.waitUntil(
        lambda: tile.view is not None and tile.view.state is TileState.ATTENTION, timeout=DEADLINE_MS
    )
    assert tile.texts()["instruction"] == "Scan the reader's inventory label"
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)  # the operator focuses the reader's slot ...
    assert tile.hasFocus()
    qtbot.keyClicks(tile, "INV-0042")  # ... and scans its label: the scanner types into the window
    qtbot.keyClick(window.header.scan, Qt.Key.Key_Return)
    runner = session.runner
    assert runner is not None
    qtbot.waitUntil(lambda: not runner.running, timeout=DEADLINE_MS)
    (record,) = session.checker.store.records()
    assert record.outcome == "pass"
    assert record.payload["unit"]["inventory"] == "INV-0042"
    assert "R1: inventory label INV-0042 scanned" in window.log_strip.toPlainText()
