"""The header: station id, mode, operator badge, profile, shift counters, line-database state.

Example::

    header = Header(station_id="line1-st01", profile="acme-2026-q4", line_db=None)
    header.operator_changed.connect(window.operator_scanned)   # a badge scanned or typed, ended by Enter
    header.set_counters("Passed 412   Failed 7   Yield 98.3 %   58 units/h")

Only Production is selectable: QA and RMA are listed (operators learn where they will be) but disabled
until operator roles arrive; even a programmatic switch to them is turned back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

MODES = ("Production", "QA", "RMA")
ROLES_TOOLTIP = "arrives with operator roles"


class Header(QWidget):
    """Two rows of station facts; the operator field takes a scanned badge."""

    operator_changed = Signal(str)

    def __init__(
        self, station_id: str, profile: str, line_db: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setAutoFillBackground(True)
        self.station = _label(station_id.upper(), 22, bold=True)
        self.mode = self._mode_selector()
        self.operator = QLineEdit()
        self.operator.setObjectName("operator")
        self.operator.setPlaceholderText("scan badge")
        self.operator.setMinimumWidth(180)
        self.operator.setFont(_font(18))
        self.operator.returnPressed.connect(self._operator_entered)
        self.operator_label = _label("Operator:", 18)
        self.profile = _label(f"Profile: {profile}", 18)
        self.counters = _label("", 20, bold=True)
        self.line_db = _label(f"Line DB: {line_db}" if line_db else "", 16)
        self.line_db.setVisible(bool(line_db))
        first = QHBoxLayout()
        for widget in (self.station, self.mode, self.operator_label, self.operator, self.profile):
            first.addWidget(widget)
            first.addSpacing(18)
        first.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(self.counters)
        second.addStretch(1)
        second.addWidget(self.line_db)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addLayout(first)
        layout.addLayout(second)

    def _mode_selector(self) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("mode")
        combo.setFont(_font(18, bold=True))
        model = QStandardItemModel(combo)
        for name in MODES:
            item = QStandardItem(name.upper())
            if name != "Production":
                item.setEnabled(False)
                item.setToolTip(f"{name}: {ROLES_TOOLTIP}")
            model.appendRow(item)
        combo.setModel(model)
        combo.setToolTip(f"Production. QA and RMA {ROLES_TOOLTIP}.")
        combo.currentIndexChanged.connect(self._mode_changed)
        return combo

    def mode_enabled(self, name: str) -> bool:
        model = self.mode.model()
        assert isinstance(model, QStandardItemModel)
        return model.item(MODES.index(name)).isEnabled()

    @property
    def mode_name(self) -> str:
        return MODES[self.mode.currentIndex()]

    def _mode_changed(self, index: int) -> None:
        if index >= 0 and not self.mode_enabled(MODES[index]):
            self.mode.setCurrentIndex(0)  # only production until operator roles arrive

    def _operator_entered(self) -> None:
        badge = self.operator.text().strip()
        self.operator.selectAll()  # the next scan replaces it
        if badge:
            self.operator_changed.emit(badge)

    def set_line_state(self, level: str, message: str) -> None:
        """The line database's last word (the sync reports problems once each)."""
        where = self.line_db.text().split(" — ", 1)[0] or "Line DB"
        mark = "" if level in ("info", "debug") else "! "
        self.line_db.setText(f"{where} — {mark}{message}")
        self.line_db.setVisible(True)

    def set_counters(self, text: str) -> None:
        if self.counters.text() != text:
            self.counters.setText(text)


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
