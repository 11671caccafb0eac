"""The operator window: header, mode bar, the login page or the tile grid with a slot's panel, the log strip.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> checker = RecordChecker(store=None, trust=None)                    # the records' worker, unused here
>>> window = MainWindow(WindowSetup("line1-st01", "default", ("A1", "A2", "R1"), readers=("R1",)), checker)
>>> window.show_login(); window.login_shown, sorted(window.models)      # until someone logs in
(True, ['A1', 'A2', 'R1'])
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from station.core.events import Event, Fault, FaultKind, LineSynced, RunFinished
from station.gui.model import palette, words
from station.gui.model.checks import CheckSource
from station.gui.model.chips import LineChip, PrinterChip
from station.gui.model.counters import Counters
from station.gui.model.slots import SCAN_PROMPT, SlotModel
from station.gui.model.windowsetup import WindowSetup
from station.gui.widgets.detail import DetailPanel
from station.gui.widgets.dialogs import Dialogs
from station.gui.widgets.grid import SlotKey, TileGrid
from station.gui.widgets.header import Header
from station.gui.widgets.login import LoginPanel
from station.gui.widgets.logstrip import LogStrip
from station.gui.widgets.modebar import ModeBar
from station.gui.widgets.scan import ScanRouter
from station.gui.widgets.theme import apply_theme, light_field
from station.gui.widgets.tile import Tile
from station.gui.workers.checker import RecordChecker

__all__ = ["MainWindow", "WindowSetup"]

FUNCTION_KEYS = 12
DETAIL_SHARE = 0.4  # of the window's height at most, when a slot's panel docks below the tiles
TILE_ROOM = 150  # px each row of tiles keeps when the panel is open: a tile still says what to do
LINE_SLOT = "line"  # the slot name the line-database sync reports under (records/line.py)


class MainWindow(QMainWindow):
    closing = Signal()
    badge_scanned = Signal(str)  # a code scanned with no reader slot focused: a badge
    reader_scanned = Signal(str, str)  # slot, code: scanned while that reader slot's tile had the focus

    def __init__(self, setup: WindowSetup, checker: RecordChecker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.checker = checker
        self.setWindowTitle(f"PPA station {setup.station_id}")
        apply_theme(_application())
        self.models = {slot: SlotModel(slot) for slot in setup.slots}
        self.counters = Counters(started=time.time())
        self.focused_slot: str | None = None  # the tile that had the focus last (for scans)
        self._closed = False
        self.header = Header(setup.station_id, setup.profile, setup.line_db)
        self.mode_bar = ModeBar()
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.fault_banner = QLabel()  # station faults: their own colour, beside a stop banner
        self.fault_banner.setObjectName("fault-banner")
        self.fault_banner.setWordWrap(True)
        self.fault_banner.hide()
        self.line_chip, self.printer_chip = LineChip(), PrinterChip()
        self.login = LoginPanel()
        self.grid = TileGrid(list(setup.slots), readers=setup.readers, rows=setup.rows, columns=setup.columns)
        self.detail = DetailPanel()
        self.detail.labels_enabled = checker.labels is not None
        if checker.labels is not None:  # the printer chip from the start, not only after a fault
            text, ok = self.printer_chip.text()
            self.header.set_printer(text, ok=ok)
        self.detail.hide()
        self.log_strip = LogStrip()
        self.dialogs = Dialogs(self, checker)
        self._layout()
        self._colours()
        self._connect()
        self.scan = ScanRouter(self, self.header.scan)
        self.scan.question = self._open_question
        _application().installEventFilter(self.scan)
        _application().focusChanged.connect(self._focus_moved)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.tick)
        self.clock.start()
        self.tick()

    def _layout(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Vertical)  # the panel docks below: no tile moves
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.login)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for widget in (self.header, self.mode_bar, self.fault_banner, self.banner):
            layout.addWidget(widget)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.log_strip)
        self.setCentralWidget(central)
        self.resize(1600, 1000)

    def _colours(self) -> None:
        _paint(self, palette.WINDOW_BACKGROUND, palette.WINDOW_TEXT)
        _paint(self.header, palette.HEADER_BACKGROUND, palette.WINDOW_TEXT)
        _paint(self.mode_bar, palette.HEADER_BACKGROUND, palette.WINDOW_TEXT)
        light_field(self.mode_bar.passphrase)  # after the bar's palette, so the field stays light
        _paint(self.banner, palette.BANNER.background, palette.BANNER.text)
        _paint(self.fault_banner, palette.FAULT_BANNER.background, palette.FAULT_BANNER.text)
        for banner in (self.banner, self.fault_banner):
            banner.setMargin(10)
            font = banner.font()
            font.setPixelSize(22)
            font.setBold(True)
            banner.setFont(font)

    def _connect(self) -> None:
        for tile in self.grid.tiles:
            tile.activated.connect(self.open_slot)
            tile.acknowledge_requested.connect(self.acknowledge)
        self.detail.check_requested.connect(self.checker.check)
        self.detail.label_requested.connect(self.checker.label)
        self.detail.acknowledge_requested.connect(self.acknowledge)
        self.detail.close_requested.connect(self.close_detail)
        self.checker.checked.connect(self.detail.show_check)
        self.checker.failed.connect(self.detail.show_check_error)
        self.checker.labelled.connect(self.detail.show_label)
        self.header.scanned.connect(self.code_scanned)
        self.header.audit_requested.connect(self.open_audit)
        self.header.check_requested.connect(self.open_station_check)
        self.slot_keys = [SlotKey(i, self) for i in range(min(FUNCTION_KEYS, len(self.grid.tiles)))]
        for key in self.slot_keys:
            key.pressed.connect(self.focus_slot)
        QShortcut(QKeySequence("Ctrl+R"), self).activated.connect(self.open_records)
        QShortcut(QKeySequence("Ctrl+L"), self).activated.connect(self.open_audit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(self.close_detail)

    # --- pages -------------------------------------------------------------------------------------------

    def show_login(self, *, badge: str = "", taking_over: bool = False, info: str = "") -> None:
        """The login page (the tiles stay behind it and keep following the station)."""
        self.pages.setCurrentWidget(self.login)
        self.header.set_logged_in(False)
        self.scan.set_field(self.login.badge, restore_focus=False)
        self.login.reset(badge=badge, taking_over=taking_over, info=info)

    def show_station(self) -> None:
        self.pages.setCurrentWidget(self.splitter)
        self.header.set_logged_in(True)
        self.scan.set_field(self.header.scan)
        self.focus_slot(0)

    @property
    def login_shown(self) -> bool:
        return self.pages.currentWidget() is self.login

    # --- events from the station -----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """One engine event (GUI thread): update the slot's model and redraw what shows it."""
        self.log_strip.add(event)  # also events of no tile: the line database sync speaks as "line"
        if isinstance(event, LineSynced):
            self._line_synced(event)
            return
        if isinstance(event, Fault) and self.printer_chip.apply(event):
            self._show_printer()
        model = self.models.get(event.slot)
        if model is None:
            return
        model.apply(event)
        self.redraw(event.slot)
        if isinstance(event, RunFinished):
            self.counters.add(event.outcome)
            self.header.set_counters(self.counters.text(time.time()))

    def redraw(self, slot: str) -> None:
        self.grid.tile(slot).show_view(self.models[slot].view())
        if self.detail.slot == slot and self.detail.isVisible():
            self.detail.refresh()
        self._fault_banner()

    def tick(self) -> None:
        """Once a second: elapsed times, PASS hold expiry, units per hour, the line database's age."""
        now = time.time()
        for slot, model in self.models.items():
            self.grid.tile(slot).show_view(model.view(now))
        self.header.set_counters(self.counters.text(now))
        if self.line_chip.reached is not None:
            text, ok = self.line_chip.text(now)
            self.header.set_line_state(text, ok=ok)
        if self.detail.isVisible():
            self.detail.refresh()

    def _show_printer(self) -> None:
        text, ok = self.printer_chip.text()
        if self.header.set_printer(text, ok=ok):
            self.log_strip.note(f"label printer: {text}")

    def _line_synced(self, event: LineSynced) -> None:
        changed = self.line_chip.apply(event)
        text, ok = self.line_chip.text(event.at)
        self.header.set_line_state(text, ok=ok)
        if changed:  # the whole sentence in the log once per change; the database's words are logged
            self.log_strip.note(f"line: {text}")  # by the sync itself (warnings), never in the header

    def _fault_banner(self) -> None:
        """The banner names every slot whose unit the station could not finish, until acknowledged."""
        faulted = [
            slot
            for slot, model in self.models.items()
            if model.alert is not None and model.alert.fault is FaultKind.STATION
        ]
        if not faulted:
            self.fault_banner.hide()
            return
        reason, instruction = words.STATION_FAULT
        text = f"⚠ {reason} in {', '.join(faulted)} — {instruction[:1].lower()}{instruction[1:]}"
        if self.fault_banner.text() != text:
            self.fault_banner.setText(text)
        self.fault_banner.show()

    def reset_counters(self) -> None:
        """A new operator's shift starts at their login."""
        self.counters = Counters(started=time.time())
        self.header.set_counters(self.counters.text(time.time()))

    def station_stopped(self, problem: str) -> None:
        """The station's run ended: after a stop, or with a problem the operator must hear about."""
        if problem:
            self.show_error(f"{problem} Restart the station; if it happens again, call the line engineer.")
        else:
            self.show_error("The station has stopped; no new units will start.")

    def show_error(self, text: str) -> None:
        """An actionable sentence in the banner and the log strip (details are in the log file)."""
        self.banner.setText(text)
        self.banner.show()
        self.log_strip.note(text)

    def clear_banner(self) -> None:
        self.banner.hide()
        self.banner.clear()

    # --- operator actions ------------------------------------------------------------------------------

    def acknowledge(self, slot: str) -> None:
        if self.models[slot].acknowledge():
            self.redraw(slot)

    def label_reprinted(self, record_id: str, sentence: str = "") -> None:
        """A reprint went out: the PASS that asked for it no longer does, and the printer works."""
        for slot, model in self.models.items():
            if model.label_reprinted(record_id):
                self.redraw(slot)
        if not self.printer_chip.ok:
            self.printer_chip.ok = True
            self._show_printer()

    def open_slot(self, slot: str) -> None:
        """Click or Enter on a tile: its panel, docked below the tiles. Opening acknowledges nothing:
        the operator says "done" with Space or the panel's Done button."""
        model = self.models[slot]
        run = model.shown_run(time.time())
        self.detail.show_slot(model, run)
        if not self.detail.isVisible():
            self.detail.show()
            height = self.splitter.height()
            panel = max(200, min(int(height * DETAIL_SHARE), height - TILE_ROOM * self.grid.bench.rows))
            self.splitter.setSizes([height - panel, panel])

    def open_station_check(self) -> None:
        self.dialogs.open_station_check()

    def set_station_check(self, source: CheckSource, *, at_start: bool = True) -> None:
        """The app hands in ``station doctor``'s checks (a callable returning name/ok/detail/fix results);
        with ``at_start`` they run now and their view opens by itself if one fails."""
        self.dialogs.check_source = source
        self.header.check_available = True
        self.header.check.setVisible(not self.login_shown)
        if at_start:
            self.dialogs.check_at_start()

    def close_detail(self) -> None:
        self.detail.hide()

    def focus_slot(self, index: int) -> None:
        if 0 <= index < len(self.grid.tiles) and not self.login_shown:
            self.grid.tiles[index].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_records(self) -> None:
        self.dialogs.open_records()

    def open_audit(self) -> None:
        if self.header.audit.isEnabled():  # the role may read it (the worker checks again, audited)
            self.dialogs.open_audit()

    def code_scanned(self, code: str) -> None:
        """A code from the header's scan field: a slot's name (typed, then Enter) focuses that slot; a
        reader's label if a reader slot is focused, or if exactly one reader slot asks for its label (an
        open question takes the scan even when the focus strayed); else a badge."""
        named = self.grid.find_slot(code)
        if named is not None:
            self.scan.forget()
            named.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        slot = self.focused_slot
        asking = [name for name in self.setup.readers if self._asks_for_scan(name)]
        if (slot is None or slot not in self.setup.readers) and len(asking) == 1:
            slot = asking[0]
        if slot is not None and slot in self.setup.readers:
            self.log_strip.note(f"{slot}: inventory label {code} scanned")
            self.reader_scanned.emit(slot, code)
        else:
            self.badge_scanned.emit(code)

    def _asks_for_scan(self, slot: str) -> bool:
        live = self.models[slot].live
        return live is not None and live.prompt == SCAN_PROMPT

    def _open_question(self) -> tuple[QLineEdit, QWidget] | None:
        """The question every keystroke goes to while it is open: the RMA passphrase."""
        bar = self.mode_bar
        if bar.open_question and not self.login_shown:
            return bar.passphrase, bar.asking
        return None

    def _focus_moved(self, old: QWidget | None, new: QWidget | None) -> None:
        if isinstance(new, Tile) and new.window() is self:
            self.focused_slot = new.slot
        elif new is not None and new is not self.header.scan:
            self.focused_slot = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.dialogs.close_all()
        self.closing.emit()
        if not self._closed:
            self._closed = True
            _application().removeEventFilter(self.scan)
            _application().focusChanged.disconnect(self._focus_moved)
        super().closeEvent(event)


def _application() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication), "the window needs a QApplication"
    return app


def _paint(widget: QWidget, background: str, text: str) -> None:
    colours = widget.palette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        colours.setColor(role, QColor(background))
    colours.setColor(QPalette.ColorRole.WindowText, QColor(text))
    colours.setColor(QPalette.ColorRole.Text, QColor(text))
    widget.setPalette(colours)
    widget.setAutoFillBackground(True)
