"""The window without a running station: tiles from the configuration, the header, keys and the scanner."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from station.app.demo import demo_config
from station.core.operator import Operator
from station.gui.model.benchmap import bench_map
from station.gui.model.modes import MODES
from station.gui.model.palette import TileState
from station.gui.model.search import Trust
from station.gui.model.slots import TileView
from station.gui.widgets.tile import INSET, MIN_WORD_PX
from station.gui.widgets.window import MainWindow, WindowSetup
from station.gui.workers.checker import RecordChecker
from station.records.store.sqlite import SqliteStore

MakeWindow = Callable[[int], MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path: Path) -> Iterator[MakeWindow]:
    """A shown window over ``fixtures`` demo slots, with no station behind it."""
    checkers: list[RecordChecker] = []

    def make(fixtures: int) -> MainWindow:
        config = demo_config(tmp_path / f"data{fixtures}", fixtures=fixtures)
        checker = RecordChecker(SqliteStore(tmp_path / f"records{fixtures}.sqlite3"), Trust({}, None))
        checkers.append(checker)
        window = MainWindow(WindowSetup.of_config(config, "default"), checker)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for checker in checkers:
        checker.shutdown()


@pytest.mark.parametrize("fixtures", [4, 32])
def test_the_window_builds_one_tile_per_configured_fixture(make_window: MakeWindow, fixtures: int) -> None:
    window = make_window(fixtures)
    slots = [tile.slot for tile in window.grid.tiles]
    assert slots == list(window.setup.slots)
    assert len(slots) == fixtures
    assert all(tile.view is not None and tile.view.state is TileState.EMPTY for tile in window.grid.tiles)
    assert all(tile.texts()["word"] == "○  EMPTY" for tile in window.grid.tiles)


def test_the_bench_map_follows_the_slot_names_or_the_configuration() -> None:
    assert bench_map(tuple(f"{row}{n}" for row in "ABCD" for n in range(1, 9)))[:2] == (4, 8)
    assert bench_map(("A1", "A2", "A3", "A4"))[:2] == (1, 4)
    assert bench_map(("A1", "A2", "A3", "A4"), rows=2)[:2] == (2, 2)  # [fixtures] rows = 2
    assert bench_map(("x", "y", "z", "w", "v"))[:2] == (2, 3)  # names that say nothing: near square


def test_at_32_tiles_the_state_word_stays_readable(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(32)
    window.resize(1600, 1000)
    assert window.grid.columns == 8
    for tile in window.grid.tiles:
        tile.show_view(TileView(TileState.ATTENTION))  # the longest state word
    qtbot.waitUntil(lambda: window.grid.tiles[-1].width() < 260)
    tile = window.grid.tiles[-1]
    word = tile.fonts["word"]
    assert word.pixelSize() >= MIN_WORD_PX
    room = tile.width() - 2 * (tile.margin + INSET)
    assert QFontMetrics(word).horizontalAdvance(tile.texts()["word"]) <= room


@pytest.mark.parametrize(
    ("role", "enabled"),
    [("operator", {"production"}), ("qa", {"qa"}), ("rma", {"qa", "rma"}), ("admin", set(MODES))],
)
def test_the_mode_switch_enables_only_the_modes_the_role_may_run(
    make_window: MakeWindow, role: str, enabled: set[str]
) -> None:
    header = make_window(4).header
    assert [header.mode.itemText(i) for i in range(header.mode.count())] == ["PRODUCTION", "QA", "RMA"]
    assert not header.mode.isEnabled()  # nobody logged in
    header.set_operator(Operator("B0042", role), tuple(m for m in MODES if m in enabled), can_audit=False)
    assert header.mode.isEnabled()
    assert {mode for mode in MODES if header.mode_enabled(mode)} == enabled
    for mode in set(MODES) - enabled:  # a disabled mode says who may run it
        tip = str(header.mode.itemData(MODES.index(mode), Qt.ItemDataRole.ToolTipRole))
        assert "may not switch" in tip and "only" in tip
    assert "B0042 (" + role + ")" in header.operator.text()


def test_function_keys_focus_slots(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(4)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.grid.tiles[2].hasFocus()
    qtbot.keyClick(window.grid.tiles[2], Qt.Key.Key_F1)
    assert window.grid.tiles[0].hasFocus()


def test_a_scanned_badge_goes_to_the_login_when_no_reader_slot_is_focused(
    make_window: MakeWindow, qtbot: QtBot
) -> None:
    window = make_window(4)
    window.activateWindow()
    tile = window.grid.tiles[1]
    tile.setFocus()
    qtbot.waitUntil(tile.hasFocus)
    with qtbot.waitSignal(window.badge_scanned) as scanned:
        qtbot.keyClicks(tile, "B-0412")  # the scanner types while a tile has the focus
        qtbot.keyClick(window.header.scan, Qt.Key.Key_Return)
    assert scanned.args == ["B-0412"]
    assert window.header.scan.text() == ""  # ready for the next scan
    assert tile.hasFocus()  # back where the operator was


def test_on_the_login_page_a_scan_lands_in_the_badge_field_and_enter_moves_to_the_pin(
    make_window: MakeWindow, qtbot: QtBot
) -> None:
    window = make_window(4)
    window.activateWindow()
    window.show_login()
    window.login.submit.setFocus()  # the focus is anywhere but in the field
    qtbot.waitUntil(window.login.submit.hasFocus)
    qtbot.keyClicks(window.login.submit, "B0042")
    qtbot.keyClick(window.login.badge, Qt.Key.Key_Return)
    assert window.login.badge.text() == "B0042"
    assert window.login.pin.hasFocus()
    assert window.login.pin.echoMode() is window.login.pin.EchoMode.Password


def test_ctrl_r_opens_the_records_view(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(4)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    records = window.dialogs.records
    assert records is not None
    qtbot.waitUntil(records.isVisible)


def test_the_header_names_the_line_database_without_credentials(tmp_path: Path) -> None:
    config = demo_config(tmp_path, fixtures=4)
    store = dataclasses.replace(config.store, line="postgresql://station:s3cret@db.example/line?password=x")
    setup = WindowSetup.of_config(dataclasses.replace(config, store=store), "default")
    assert setup.line_db == "db.example/line"
