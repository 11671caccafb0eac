"""A one-line state chip for the header (line database, printer): elided to its room, never widening the
window; the whole text is in its tooltip (and the window writes it to the log strip).

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> chip = Chip(max_width=120); _ = chip.set_state("Line DB ! offline — 37 records kept here", ok=False)
>>> chip.toolTip(), chip.sizeHint().width() <= 120
('Line DB ! offline — 37 records kept here', True)
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.core.text import printable
from station.gui.model import palette


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
