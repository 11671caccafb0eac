"""The station check view (header ▸ Station check): every check with ✔/✖, what it found and the fix.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> from station.gui.model.checks import summary
>>> view = StationCheckView(None); view.show_results([])
>>> view.status.text()
'No checks ran.'
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.core.text import printable
from station.gui.model import palette
from station.gui.model.checks import CheckResult, CheckSource, failing, mark, summary
from station.gui.widgets.tables import read_only_table

COLUMNS = ("", "Check", "Found", "Fix")


class StationCheckView(QDialog):
    """Runs the checks in a thread when opened or asked again; shows them when they come back."""

    finished = Signal(object)  # the results (a list), delivered in the GUI thread
    shown = Signal(bool)  # True when every check passed

    def __init__(self, source: CheckSource | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setWindowTitle("Station check")
        self.setObjectName("station-check")
        self.resize(1100, 600)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        font = QFont()
        font.setPixelSize(20)
        font.setBold(True)
        self.status.setFont(font)
        self.table = read_only_table(COLUMNS)
        table_font = QFont()
        table_font.setPixelSize(17)
        self.table.setFont(table_font)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.again = QPushButton("Check again")
        self.again.clicked.connect(self.run)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.again)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.finished.connect(self.show_results)
        self._running = False

    def run(self) -> None:
        """Run the checks off the GUI thread (a check may wait for a network answer)."""
        if self.source is None:
            self._status("No station check is available in this build.", False)
            return
        if self._running:
            return
        self._running = True
        self.again.setEnabled(False)
        self._status("Checking the station…", True)
        threading.Thread(target=self._run, name="station-check", daemon=True).start()

    def _run(self) -> None:
        assert self.source is not None
        try:
            results: Sequence[CheckResult] = list(self.source())
        except Exception as exc:  # a broken check must not take the window down
            results = [_Broken(type(exc).__name__)]
        self.finished.emit(results)

    def show_results(self, results: Sequence[CheckResult]) -> None:
        self._running = False
        self.again.setEnabled(True)
        ordered = sorted(results, key=lambda result: result.ok is True)  # failures and unknowns first
        self.table.setRowCount(len(ordered))
        for row, result in enumerate(ordered):
            cells = (mark(result), result.name, result.detail, "" if result.ok else result.fix)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(printable(text, 500))
                colour = palette.VERIFIED_TEXT if result.ok else palette.UNVERIFIED_TEXT
                if column == 0:
                    item.setForeground(QColor(colour))
                self.table.setItem(row, column, item)
        for column in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(column)
        ok = not failing(results)
        self._status(summary(results), ok)
        self.shown.emit(ok)

    def _status(self, text: str, ok: bool) -> None:
        self.status.setText(text)
        colours = self.status.palette()
        colours.setColor(
            QPalette.ColorRole.WindowText, QColor(palette.VERIFIED_TEXT if ok else palette.UNVERIFIED_TEXT)
        )
        self.status.setPalette(colours)


class _Broken:
    """The result shown when the check runner itself raised."""

    def __init__(self, kind: str) -> None:
        self.name = "station check"
        self.ok = False
        self.detail = f"the checks could not run ({kind})"
        self.fix = "run `station doctor` in a terminal and call the line engineer"
