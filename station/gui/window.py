"""The operator window: header, tile grid, the detail panel of a slot, and the log strip.

Example::

    window = MainWindow(WindowSetup.of(station), checker)
    bridge.engine_event.connect(window.apply)           # every engine event, in the GUI thread
    window.show()

Keys: F1..F12 focus a slot, Space acknowledges the focused slot, Enter or a click opens its panel,
Ctrl+R the records view, Esc closes the panel. A scanned badge lands in the operator field wherever the
focus is. The window never waits on the station: it applies events and redraws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from station.config import StationConfig
from station.events import Event, LogLine, RunFinished
from station.gui import palette
from station.gui.checker import RecordChecker
from station.gui.counters import Counters
from station.gui.detail import DetailPanel
from station.gui.grid import TileGrid
from station.gui.header import Header
from station.gui.logstrip import LogStrip
from station.gui.records_view import RecordsView
from station.gui.scan import ScanRouter
from station.gui.slots import SlotModel
from station.gui.theme import apply_theme, light_field
from station.station import Station

FUNCTION_KEYS = 12
DETAIL_SHARE = 0.4  # of the window's width, when a slot's panel opens beside the tiles
LINE_SLOT = "line"  # the slot name the line-database sync reports under (records/line.py)


@dataclass(frozen=True)
class WindowSetup:
    """What the window shows before any event: the station's id, profile, slots and line database."""

    station_id: str
    profile: str
    slots: tuple[str, ...]
    line_db: str | None = None

    @classmethod
    def of(cls, station: Station) -> WindowSetup:
        return cls.of_config(station.config, station.profile_name)

    @classmethod
    def of_config(cls, config: StationConfig, profile: str) -> WindowSetup:
        line = config.store.line
        # host/database only: the user part or the query of a URL may carry a password
        where = line.rsplit("@", 1)[-1].split("?", 1)[0] if line else None
        slots = tuple(fixture.slot for fixture in config.fixtures)
        return cls(config.station.id, profile, slots, where)


class SlotKey(QObject):
    """F<n> → focus slot n; a small object so the shortcut connects to a bound method, not a lambda."""

    pressed = Signal(int)

    def __init__(self, index: int, window: QWidget) -> None:
        super().__init__(window)
        self.index = index
        shortcut = QShortcut(QKeySequence(f"F{index + 1}"), window)
        shortcut.activated.connect(self._fire)

    def _fire(self) -> None:
        self.pressed.emit(self.index)


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self, setup: WindowSetup, checker: RecordChecker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.checker = checker
        self.setWindowTitle(f"PPA station {setup.station_id}")
        apply_theme(_application())
        self.models = {slot: SlotModel(slot) for slot in setup.slots}
        self.counters = Counters(started=time.time())
        self.operator_badge: str | None = None
        self.records: RecordsView | None = None
        self.header = Header(setup.station_id, setup.profile, setup.line_db)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.grid = TileGrid(list(setup.slots))
        self.detail = DetailPanel()
        self.detail.hide()
        self.log_strip = LogStrip()
        self._layout()
        self._colours()
        self._connect()
        self.scan = ScanRouter(self, self.header.operator)
        _application().installEventFilter(self.scan)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.tick)
        self.clock.start()
        self.tick()

    def _layout(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for widget in (self.header, self.banner):
            layout.addWidget(widget)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.log_strip)
        self.setCentralWidget(central)
        self.resize(1600, 1000)

    def _colours(self) -> None:
        _paint(self, palette.WINDOW_BACKGROUND, palette.WINDOW_TEXT)
        _paint(self.header, palette.HEADER_BACKGROUND, palette.WINDOW_TEXT)
        light_field(self.header.operator)
        _paint(self.banner, palette.BANNER.background, palette.BANNER.text)
        self.banner.setAutoFillBackground(True)
        self.banner.setMargin(10)
        font = self.banner.font()
        font.setPixelSize(18)
        font.setBold(True)
        self.banner.setFont(font)

    def _connect(self) -> None:
        for tile in self.grid.tiles:
            tile.activated.connect(self.open_slot)
            tile.acknowledge_requested.connect(self.acknowledge)
        self.detail.check_requested.connect(self.checker.check)
        self.detail.acknowledge_requested.connect(self.acknowledge)
        self.detail.close_requested.connect(self.close_detail)
        self.checker.checked.connect(self.detail.show_check)
        self.checker.failed.connect(self.detail.show_check_error)
        self.header.operator_changed.connect(self.operator_scanned)
        self.slot_keys = [SlotKey(i, self) for i in range(min(FUNCTION_KEYS, len(self.grid.tiles)))]
        for key in self.slot_keys:
            key.pressed.connect(self.focus_slot)
        QShortcut(QKeySequence("Ctrl+R"), self).activated.connect(self.open_records)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(self.close_detail)

    # --- events from the station -----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """One engine event (GUI thread): update the slot's model and redraw what shows it."""
        self.log_strip.add(event)  # also events of no tile: the line database sync speaks as "line"
        if isinstance(event, LogLine) and event.slot == LINE_SLOT:
            self.header.set_line_state(event.level, event.message)
        model = self.models.get(event.slot)
        if model is None:
            return
        model.apply(event)
        self.grid.tile(event.slot).show_view(model.view())
        if isinstance(event, RunFinished):
            self.counters.add(event.outcome)
            self.header.set_counters(self.counters.text(time.time()))
        if self.detail.slot == event.slot and self.detail.isVisible():
            self.detail.refresh()

    def tick(self) -> None:
        """Once a second: elapsed times, PASS hold expiry, units per hour."""
        now = time.time()
        for slot, model in self.models.items():
            self.grid.tile(slot).show_view(model.view(now))
        self.header.set_counters(self.counters.text(now))
        if self.detail.isVisible():
            self.detail.refresh()

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

    # --- operator actions ------------------------------------------------------------------------------

    def acknowledge(self, slot: str) -> None:
        model = self.models[slot]
        if model.acknowledge():
            self.grid.tile(slot).show_view(model.view())
            if self.detail.slot == slot:
                self.detail.refresh()

    def open_slot(self, slot: str) -> None:
        """Click on a tile: acknowledge what it asked for and show its detail panel on that run."""
        model = self.models[slot]
        run = model.shown_run(time.time())
        self.acknowledge(slot)
        self.detail.show_slot(model, run)
        if not self.detail.isVisible():
            self.detail.show()
            width = self.splitter.width()
            self.splitter.setSizes([width - int(width * DETAIL_SHARE), int(width * DETAIL_SHARE)])

    def close_detail(self) -> None:
        self.detail.hide()

    def focus_slot(self, index: int) -> None:
        if 0 <= index < len(self.grid.tiles):
            self.grid.tiles[index].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_records(self) -> None:
        if self.records is None:
            self.records = RecordsView(self.checker, self)
        self.records.show()
        self.records.raise_()
        self.records.query_field.setFocus()
        self.records.search(self.records.query_field.text())

    def operator_scanned(self, badge: str) -> None:
        self.operator_badge = badge
        self.log_strip.note(f"operator badge {badge}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.records is not None:
            self.records.close()  # else the dialog would keep the application open
        self.closing.emit()
        _application().removeEventFilter(self.scan)
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
