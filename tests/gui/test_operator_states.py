"""The window in every state a line meets (issue 18): faults on tiles and in the header, the acknowledge rule,
keyboard paths, text that scales and is never cut, and the views' states. No station behind the window: the
events are the ones the slot workers, the fixtures' health, the label hook and the line sync publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from station.core.events import (
    Fault,
    FaultKind,
    LineSynced,
    LogLine,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
    StepStarted,
    UnitIdentified,
)
from station.core.operator import Operator
from station.gui.model import words
from station.gui.model.search import Trust
from station.gui.model.slots import SCAN_PROMPT
from station.gui.widgets.tile import INSET, Tile, _wrap
from station.gui.widgets.window import MainWindow, WindowSetup
from station.gui.workers.checker import RecordChecker
from station.pipeline.modes.rma.wipe import ReturnedUnit
from station.records.store.sqlite import SqliteStore

STEPS = ("identify", "attest", "provision", "verify")
UNIT = "2023b758c209269a"
MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path: Path) -> Iterator[MakeWindow]:
    checkers: list[RecordChecker] = []

    def make(slots: int = 8, *, rows: int | None = None, columns: int | None = None) -> MainWindow:
        names = tuple(f"{chr(ord('A') + i // 8)}{i % 8 + 1}" for i in range(slots))
        checker = RecordChecker(SqliteStore(tmp_path / f"records{len(checkers)}.sqlite3"), Trust({}, None))
        checkers.append(checker)
        setup = WindowSetup("line1-st01", "default", names, "db.example/line", rows=rows, columns=columns)
        window = MainWindow(setup, checker)
        qtbot.addWidget(window)
        window.header.set_operator(Operator("B0042", "operator"), ("production",), can_audit=False)
        window.show_station()
        window.resize(1600, 1000)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # focus follows keys only in the active window
        qtbot.waitUntil(window.isActiveWindow)
        return window

    yield make
    for checker in checkers:
        checker.shutdown()


@dataclass
class Feed:
    window: MainWindow
    now: float

    def __call__(self, *events: object) -> None:
        for event in events:
            self.window.apply(event)  # type: ignore[arg-type]

    def running(self, slot: str, run_id: str = "r1") -> None:
        self(
            SlotChanged(slot, self.now, SlotState.PRESENT),
            RunStarted(slot, self.now, run_id, "production", STEPS),
            StepStarted(slot, self.now, run_id, "attest", 1),
        )

    def failed(self, slot: str, run_id: str = "r1") -> None:
        self.running(slot, run_id)
        refused = "POST /api/system/config/provisioning refused with 406"
        self(
            RunFinished(slot, self.now, run_id, Outcome.FAIL, UNIT, "rec-1", "provision", refused, "http-406")
        )


def feed(window: MainWindow) -> Feed:
    return Feed(window, time.time())


def word(tile: Tile) -> str:
    return tile.texts()["word"]


def test_a_station_fault_shows_on_the_tile_and_in_the_banner_never_a_stale_running(
    make_window: MakeWindow,
) -> None:
    window = make_window()
    events = feed(window)
    events.running("A2")
    message = "the station could not finish this unit (RecordError: database or disk is full); ..."
    events(
        SlotChanged("A2", events.now, SlotState.FAILED, message),
        Fault("A2", events.now, FaultKind.STATION, message),
    )
    tile = window.grid.tile("A2")
    assert word(tile) == "⚠  FAULT"
    assert (tile.texts()["reason"], tile.texts()["instruction"]) == words.STATION_FAULT
    assert window.fault_banner.isVisible()
    assert window.fault_banner.text() == "⚠ Station fault in A2 — set the unit aside, call the line engineer."
    assert "RecordError" not in window.fault_banner.text() + " ".join(tile.texts().values())
    window.acknowledge("A2")
    assert not window.fault_banner.isVisible()
    assert tile.texts()["instruction"] == "Take out → line engineer"


def test_a_slot_that_does_not_respond_is_offline_not_empty(make_window: MakeWindow) -> None:
    window = make_window()
    events = feed(window)
    events(Fault("A5", events.now, FaultKind.SLOT, "the USB hub of port 1-1.5 is gone"))
    tile = window.grid.tile("A5")
    assert word(tile) == "⊘  OFFLINE"
    assert (tile.texts()["reason"], tile.texts()["instruction"]) == words.SLOT_FAULT
    events(Fault("A5", events.now, FaultKind.SLOT, cleared=True))
    assert word(tile) == "○  EMPTY"


def test_a_label_not_printed_flags_the_pass_and_the_printer_chip_until_reprinted(
    make_window: MakeWindow,
) -> None:
    window = make_window()
    events = feed(window)
    events.running("A6")
    events(RunFinished("A6", events.now, "r1", Outcome.PASS, UNIT, "rec-6"))
    events(Fault("A6", events.now, FaultKind.LABEL, "label not printed: printer reports paper out", "r1"))
    tile = window.grid.tile("A6")
    assert tile.view is not None and tile.view.flagged
    assert (word(tile), tile.texts()["reason"]) == ("✔  PASS", words.LABEL_FAULT[0])
    assert window.header.printer.isVisible() and not window.header.printer.ok
    assert window.header.printer.text == "Printer ! label not printed (A6)"
    assert "label not printed" in window.log_strip.toPlainText()  # a warning now, no longer filtered out
    window.label_reprinted("rec-6")
    assert tile.view is not None and not tile.view.flagged
    assert window.header.printer.ok


def test_opening_the_panel_acknowledges_nothing_space_does(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window()
    feed(window).failed("A3")
    tile = window.grid.tile("A3")
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # the panel opens
    assert window.detail.isVisible()
    assert word(tile) == "✖  FAIL" and tile.texts()["instruction"] == words.SET_ASIDE
    qtbot.keyClick(tile, Qt.Key.Key_Return)  # Enter opens the panel too: still nothing acknowledged
    assert word(tile) == "✖  FAIL"
    qtbot.keyClick(tile, Qt.Key.Key_Space)
    assert word(tile) == "◌  WAITING"
    assert tile.texts()["instruction"] == "Take out → QA"  # until the unit is out
    window.apply(SlotChanged("A3", time.time(), SlotState.EMPTY))
    assert word(tile) == "○  EMPTY"


def test_the_bench_map_does_not_move_when_the_panel_opens(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(32)
    feed(window).failed("C3")
    places = {tile.slot: (tile.x(), tile.y()) for tile in window.grid.tiles}
    columns = {tile.slot: tile.x() for tile in window.grid.tiles}
    qtbot.mouseClick(window.grid.tile("C3"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.detail.isVisible)
    assert window.grid.columns == 8
    assert {tile.slot: tile.x() for tile in window.grid.tiles} == columns  # the same columns, same order
    assert len({y for _, y in places.values()}) == 4
    tile = window.grid.tile("C3")
    assert tile.height() >= 120  # the rows keep room to say what to do
    assert window.width() == 1600


def test_arrow_keys_move_between_tiles_on_the_bench_map(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(32)
    window.grid.tile("A1").setFocus()
    for key, expected in (
        (Qt.Key.Key_Right, "A2"),
        (Qt.Key.Key_Down, "B2"),
        (Qt.Key.Key_Down, "C2"),
        (Qt.Key.Key_Left, "C1"),
        (Qt.Key.Key_Left, "C1"),  # the edge of the bench: stays
        (Qt.Key.Key_Up, "B1"),
    ):
        qtbot.keyClick(window.focusWidget(), key)
        assert window.focused_slot == expected


def test_a_slot_is_reached_by_typing_its_name(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(32)
    window.grid.tile("A1").setFocus()
    badges: list[str] = []
    window.badge_scanned.connect(badges.append)
    qtbot.keyClicks(window.grid.tile("A1"), "d7")  # lands in the scan field, as a scanner's keys do
    qtbot.keyClick(window.header.scan, Qt.Key.Key_Return)
    assert window.focused_slot == "D7"
    assert badges == []  # a slot's name is not a badge


def test_while_a_passphrase_is_asked_every_key_goes_to_it(make_window: MakeWindow, qtbot: QtBot) -> None:
    """The security bug of issue 18: F-key, then typing, put the passphrase in the scan field in clear."""
    window = make_window()
    window.mode_bar.show_mode("rma")
    feed(window).running("A1")
    window.mode_bar.ask(ReturnedUnit("A1", eid="ocUklGujYsU8", label="Line Seven"), devid=UNIT, wait=100)
    field = window.mode_bar.passphrase
    tile = window.grid.tile("A4")
    tile.setFocus()
    for key in (Qt.Key.Key_F4, Qt.Key.Key_Right, Qt.Key.Key_Escape):
        qtbot.keyClick(tile, key)  # no shortcut, no move, no closing: the question keeps the keys
    assert window.focused_slot != "A5"
    qtbot.keyClicks(tile, "s3cret words")
    assert field.text() == "s3cret words"
    assert field.echoMode() is field.EchoMode.Password
    assert window.header.scan.text() == ""
    given: list[tuple[str, object]] = []
    window.mode_bar.passphrase_given.connect(lambda slot, text: given.append((slot, text)))
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert given == [("A1", "s3cret words")] and field.text() == ""
    window.grid.tile("A4").setFocus()  # no question now: keys move between tiles again
    qtbot.keyClick(window.grid.tile("A4"), Qt.Key.Key_Right)
    assert window.focused_slot == "A5"


@pytest.mark.parametrize("shape", [(None, None), (2, 4)])  # A1..A8 in a row; [fixtures] rows = 2, columns = 4
def test_at_8_tiles_the_instruction_is_28_px_or_more_and_never_cut(
    make_window: MakeWindow, qtbot: QtBot, shape: tuple[int | None, int | None]
) -> None:
    window = make_window(8, rows=shape[0], columns=shape[1])
    events = feed(window)
    events.failed("A1")
    events.running("A2")
    events(Fault("A2", events.now, FaultKind.STATION, "boom"))
    events(Fault("A3", events.now, FaultKind.SLOT, "gone"))
    qtbot.waitUntil(lambda: window.grid.tile("A1").height() > 250)
    for slot in ("A1", "A2", "A3"):
        tile = window.grid.tile(slot)
        tile.grab()  # paint: the faces are fitted while drawing
        instruction = tile.texts()["instruction"]
        area = tile.width() - 2 * (tile.margin + INSET)
        font = next(
            font
            for (part, text, *_), font in tile._fitted.items()
            if part == "instruction" and text == instruction
        )
        assert font.pixelSize() >= 28, slot
        lines = _wrap(QFontMetrics(font), instruction, area)
        assert " ".join(lines) == instruction  # every word whole, nothing elided


def test_the_line_database_chip_says_synced_or_offline_and_never_widens_the_window(
    make_window: MakeWindow,
) -> None:
    window = make_window()
    now = time.time()
    window.apply(LineSynced("line", now - 4, reached=True))
    window.tick()
    chip = window.header.line_db
    assert chip.text.startswith("Line DB ✔ synced") and chip.ok
    error = (
        'connection to server at "10.0.0.5", port 5432 failed: FATAL: '
        + "password authentication failed " * 8
    )
    window.apply(
        LogLine("line", now, None, "warning", f"records not synced yet (kept locally, retried): {error}")
    )
    window.apply(LineSynced("line", now, reached=False, pending=37, message=error))
    assert chip.text == "Line DB ! offline — 37 records kept here" and not chip.ok
    assert "FATAL" not in chip.text + chip.toolTip()
    assert "offline — 37 records kept here" in window.log_strip.toPlainText()
    assert window.width() == 1600 and chip.width() <= chip.max_width
    assert window.header.scan.width() == 220
    window.apply(LineSynced("line", now + 5, reached=True))
    window.tick()
    assert chip.ok and "synced" in chip.text  # clears on recovery


def test_the_login_page_hides_the_header_controls(make_window: MakeWindow) -> None:
    window = make_window()
    window.show_login()
    header = window.header
    for hidden in (header.mode, header.logout, header.audit, header.check, header.scan, header.counters):
        assert not hidden.isVisible()
    assert header.station.isVisible()
    window.show_station()
    assert header.scan.isVisible() and header.mode.isVisible()


@dataclass
class Check:
    name: str
    ok: bool | None
    detail: str
    fix: str = ""


def test_the_station_check_view_shows_what_the_app_passes_in(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window()
    results = [Check("records disk", False, "412 MB free", "free space"), Check("printer", True, "answers")]
    assert not window.header.check.isVisible()  # nothing to check with until the app hands the checks in
    window.set_station_check(lambda: results, at_start=False)
    assert window.header.check.isVisible()
    with qtbot.waitSignal(window.header.check_requested):
        qtbot.mouseClick(window.header.check, Qt.MouseButton.LeftButton)
    view = window.dialogs.station_check
    assert view is not None
    qtbot.waitUntil(lambda: view.table.rowCount() == 2)
    assert view.status.text() == "1 of 2 checks failed: records disk"
    first = view.table.item(0, 1)
    assert first is not None and first.text() == "records disk"  # failures first
    broken = view.table.item(0, 3)
    assert broken is not None and broken.text() == "free space"


def test_a_check_that_could_not_tell_is_marked_and_not_taken_for_a_pass(
    make_window: MakeWindow, qtbot: QtBot
) -> None:
    window = make_window()
    window.set_station_check(lambda: [Check("printer", True, "answers"), Check("clock", None, "unknown", "")])
    view = window.dialogs.station_check
    assert view is not None
    qtbot.waitUntil(view.isVisible)  # an unknown is not a pass: the view opens at start
    mark = view.table.item(0, 0)
    assert mark is not None and mark.text() == "?"
    assert view.status.text() == "1 of 2 checks failed: clock"


def test_the_rma_question_counts_down_and_the_wipe_looks_destructive(make_window: MakeWindow) -> None:
    window = make_window()
    bar = window.mode_bar
    bar.show_mode("rma")
    assert bar.accept_unknown.text() == "Accept unknown units: OFF"
    bar.accept_unknown.setChecked(True)
    assert bar.accept_unknown.text().startswith("Accept unknown units: ON")
    bar.ask(ReturnedUnit("A1", eid="x" * 44, label="Line Seven"), devid=UNIT, wait=100)
    assert bar.question.text().startswith(f"Slot A1 — unit {UNIT} “Line Seven”")
    assert bar.countdown.text().endswith("left to answer")
    assert "background: #B42318" in bar.skip.styleSheet() and "WIPE" in bar.skip.text()


def test_the_station_check_opens_by_itself_at_start_only_when_a_check_fails(
    make_window: MakeWindow, qtbot: QtBot
) -> None:
    window = make_window()
    window.set_station_check(lambda: [Check("printer", True, "answers")])
    view = window.dialogs.station_check
    assert view is not None
    qtbot.waitUntil(lambda: view.table.rowCount() == 1)
    assert not view.isVisible()
    window.set_station_check(lambda: [Check("records disk", False, "412 MB free", "free space")])
    qtbot.waitUntil(view.isVisible)
    assert view.status.text() == "1 of 1 checks failed: records disk"


def test_the_step_title_and_the_unit_id_are_never_cut(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window(8)  # A1..A8 in one row: tall, narrow tiles, large faces
    events = feed(window)
    events(RunStarted("A1", events.now, "r1", "production", ("verify",)))
    events(UnitIdentified("A1", events.now, "r1", UNIT), StepStarted("A1", events.now, "r1", "verify", 1))
    tile = window.grid.tile("A1")
    qtbot.waitUntil(lambda: tile.height() > 500)
    tile.grab()  # paint: the faces are fitted while drawing
    area = tile.width() - 2 * (tile.margin + INSET)
    for part, text in (("step", "Final check"), ("unit", UNIT)):
        assert tile.texts()[part] == text
        font = next(font for (name, shown, *_), font in tile._fitted.items() if (name, shown) == (part, text))
        assert QFontMetrics(font).horizontalAdvance(text) < area, part


def test_a_scan_goes_to_the_one_reader_that_asks_for_it_even_when_the_focus_strayed(
    qtbot: QtBot, tmp_path: Path
) -> None:
    checker = RecordChecker(SqliteStore(tmp_path / "records.sqlite3"), Trust({}, None))
    setup = WindowSetup("line1-st01", "default", ("A1", "R1", "R2"), readers=("R1", "R2"))
    window = MainWindow(setup, checker)
    qtbot.addWidget(window)
    window.show_station()
    window.show()
    events = feed(window)
    events.running("R1")
    window.models["R1"].ask(SCAN_PROMPT)
    labels: list[tuple[str, str]] = []
    badges: list[str] = []
    window.reader_scanned.connect(lambda slot, code: labels.append((slot, code)))
    window.badge_scanned.connect(badges.append)
    window.focused_slot = "A1"  # an arrow key took the focus elsewhere
    window.code_scanned("INV-000123")
    assert labels == [("R1", "INV-000123")] and badges == []
    window.models["R1"].ask("")  # answered: a scan is a badge again
    window.code_scanned("B0042")
    assert badges == ["B0042"]
    checker.shutdown()
