"""The header: station id, the mode switch, who is logged in, profile, shift counters, line-database state.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> header = Header(station_id="line1-st01", profile="acme-2026-q4", line_db=None)
>>> header.set_operator(Operator("Q0007", "qa"), allowed=("qa",), can_audit=True)
>>> [header.mode_enabled(mode) for mode in ("production", "qa", "rma")]     # the others say who may
[False, True, False]
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from station.core.operator import Operator
from station.core.text import printable
from station.gui.model import modes, palette

NOBODY = "nobody logged in"


class Header(QWidget):
    """Two rows of station facts and the controls that go with who is logged in."""

    mode_requested = Signal(str)  # production | qa | rma
    logout_requested = Signal()
    audit_requested = Signal()
    check_requested = Signal()  # the station check view
    scanned = Signal(str)  # a code from the scanner (or typed into the scan field), ended by Enter

    def __init__(
        self, station_id: str, profile: str, line_db: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setAutoFillBackground(True)
        self.station = _label(station_id.upper(), 22, bold=True)
        self.mode = self._mode_selector()
        self.current_mode: str | None = None
        self.operator = _label(f"Operator: {NOBODY}", 18)
        self.operator.setObjectName("operator")
        self.logout = _button("Logout", "logout", self.logout_requested)
        self.audit = _button("Audit log (Ctrl+L)", "audit", self.audit_requested)
        self.check = _button("Station check", "station-check", self.check_requested)
        self.check_available = False  # the app hands the checks in (``MainWindow.set_station_check``)
        self.check.hide()
        self.scan = QLineEdit()
        self.scan.setObjectName("scan")
        self.scan.setPlaceholderText("scan")
        self.scan.setFixedWidth(220)  # the chips elide; the field the scanner types into never shrinks
        self.scan.setFont(_font(16))
        self.scan.returnPressed.connect(self._scan_entered)
        self.profile = _label(f"Profile: {profile}", 18)
        self.counters = _label("", 20, bold=True)
        self.line_db = Chip(max_width=380)
        self.line_db.setObjectName("line-db")
        self.line_db.set_state(f"Line DB {line_db} … connecting" if line_db else "", ok=True)
        self.line_db.setVisible(bool(line_db))
        self.printer = Chip(max_width=420)
        self.printer.setObjectName("printer")
        self.printer.set_state("Printer ✔", ok=True)
        self.printer.hide()  # shown when the station prints labels
        self.scan_label = _label("Scan:", 16)
        self._arrange()
        self.set_operator(None, (), can_audit=False)

    def _arrange(self) -> None:
        first = QHBoxLayout()
        for widget in (self.station, self.mode, self.operator, self.logout, self.profile):
            first.addWidget(widget)
            first.addSpacing(18)
        first.addStretch(1)
        first.addWidget(self.check)
        first.addWidget(self.audit)
        second = QHBoxLayout()
        second.addWidget(self.counters)
        second.addStretch(1)
        second.addWidget(self.printer)
        second.addSpacing(12)
        second.addWidget(self.line_db, 1)
        second.addSpacing(18)
        second.addWidget(self.scan_label)
        second.addWidget(self.scan)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addLayout(first)
        layout.addLayout(second)

    def _mode_selector(self) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("mode")
        combo.setFont(_font(18, bold=True))
        model = QStandardItemModel(combo)
        for mode in modes.MODES:
            item = QStandardItem(modes.TITLES[mode].upper())
            item.setData(mode, Qt.ItemDataRole.UserRole)
            model.appendRow(item)
        combo.setModel(model)
        combo.activated.connect(self._mode_picked)  # the operator's pick only, not ``show_mode``
        return combo

    # --- what the header shows ---------------------------------------------------------------------------

    def set_operator(self, operator: Operator | None, allowed: tuple[str, ...], *, can_audit: bool) -> None:
        """Who is logged in, the modes their role may run, and whether they may read the audit log."""
        who = NOBODY if operator is None else f"{operator.id} ({operator.role})"
        self.operator.setText(f"Operator: {who}")
        model = self.mode.model()
        assert isinstance(model, QStandardItemModel)
        for row, mode in enumerate(modes.MODES):
            item = model.item(row)
            item.setEnabled(mode in allowed)
            tip = modes.GUIDES[mode] if mode in allowed else modes.refusal(operator, mode)
            item.setToolTip(tip)
        self.mode.setEnabled(operator is not None)
        self.logout.setEnabled(operator is not None)
        self.audit.setEnabled(can_audit)

    def show_mode(self, mode: str | None) -> None:
        """The mode the station runs in now (None: none yet)."""
        self.current_mode = mode
        self.mode.setCurrentIndex(-1 if mode is None else modes.MODES.index(mode))
        self.mode.setToolTip(modes.GUIDES.get(mode or "", "Log in to choose a mode."))

    def mode_enabled(self, mode: str) -> bool:
        model = self.mode.model()
        assert isinstance(model, QStandardItemModel)
        return bool(model.item(modes.MODES.index(mode)).isEnabled())

    def set_switching(self, switching: bool) -> None:
        self.mode.setEnabled(not switching and self.logout.isEnabled())

    def set_line_state(self, text: str, *, ok: bool) -> bool:
        """The line database chip ("Line DB ✔ synced 4 s ago"); True when it changed."""
        self.line_db.setVisible(True)
        return self.line_db.set_state(text, ok=ok)

    def set_printer(self, text: str, *, ok: bool) -> bool:
        self.printer.setVisible(True)
        return self.printer.set_state(text, ok=ok)

    def set_logged_in(self, logged_in: bool) -> None:
        """Before a login the header shows the station only: no mode, logout, counters, scan or views."""
        widgets: tuple[QWidget, ...] = (self.mode, self.operator, self.logout, self.audit)
        for widget in (*widgets, self.counters, self.scan, self.scan_label):
            widget.setVisible(logged_in)
        self.check.setVisible(logged_in and self.check_available)

    def set_counters(self, text: str) -> None:
        if self.counters.text() != text:
            self.counters.setText(text)

    # --- input -------------------------------------------------------------------------------------------

    def request_mode(self, mode: str) -> None:
        """Ask for ``mode`` as a pick in the switch does (the switch keeps showing the current mode)."""
        self.show_mode(self.current_mode)
        if mode != self.current_mode:
            self.mode_requested.emit(mode)

    def _mode_picked(self, index: int) -> None:
        if 0 <= index < len(modes.MODES):
            self.request_mode(modes.MODES[index])

    def _scan_entered(self) -> None:
        code = self.scan.text().strip()
        self.scan.clear()  # the next scan starts empty
        if code:
            self.scanned.emit(code)


class Chip(QWidget):
    """Draws its text elided; its size hint never exceeds ``max_width``."""

    def __init__(self, parent: QWidget | None = None, *, max_width: int = 380, pixels: int = 16) -> None:
        super().__init__(parent)
        self.max_width = max_width
        self.text = ""
        self.ok = True
        font = QFont()
        font.setPixelSize(pixels)
        font.setBold(True)
        self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMaximumWidth(max_width)

    def set_state(self, text: str, *, ok: bool) -> bool:
        """Show ``text`` (a database's or printer's words: escaped); True if it changed."""
        text = printable(text, 500)
        if (text, ok) == (self.text, self.ok):
            return False
        self.text, self.ok = text, ok
        self.setToolTip(text)
        self.setAccessibleName(text)
        self.setMinimumWidth(self.sizeHint().width())  # its whole text while there is room, never more
        self.updateGeometry()
        self.update()
        return True

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(min(self.max_width, metrics.horizontalAdvance(self.text) + 16), metrics.height() + 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        colour = palette.OK_TEXT if self.ok else palette.WARN_TEXT
        painter.setPen(QColor(colour))
        painter.setFont(self.font())
        shown = self.fontMetrics().elidedText(self.text, Qt.TextElideMode.ElideRight, self.width() - 8)
        painter.drawText(self.rect().adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, shown)
        painter.end()


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _label(text: str, pixels: int, *, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setFont(_font(pixels, bold=bold))
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _button(text: str, name: str, signal: SignalInstance) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setFont(_font(16))
    button.clicked.connect(signal)
    return button
