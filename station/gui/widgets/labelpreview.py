"""The unit label drawn on screen as it will print: the QR code and the text where the template puts them.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> preview = LabelPreview(); preview.resize(416, 256)         # the label and a margin of 8 px
>>> zpl = "^XA^PW400^LL240^FO16,16^BQN,2,4^FDMA,PPA1^FS^XZ"        # a QR code at (16, 16), 4 dots a module
>>> preview.show_label(Label("r-1", "2023b758c209269a", {}, zpl))
>>> [(placement.x, placement.y, placement.module) for placement in preview.qr_placements()]
[(24.0, 24.0, 4.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.gui.model.palette import MUTED_TEXT
from station.labels import Label
from station.labels.layout import LabelLayout, QrField, TextField, label_layout

PAPER, INK = QColor("#FFFFFF"), QColor("#000000")
MARGIN = 8  # pixels around the label


@dataclass(frozen=True)
class QrPlacement:
    """One QR code as drawn: its top-left corner and module size in widget pixels, and its matrix."""

    x: float
    y: float
    module: float
    matrix: tuple[tuple[bool, ...], ...]


class LabelPreview(QWidget):
    """Draws one ``Label``; knows nothing of printers or records."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label: Label | None = None
        self.layout_: LabelLayout | None = None
        self._matrices: list[tuple[tuple[bool, ...], ...]] = []
        self.setObjectName("label-preview")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.show_label(None)

    def show_label(self, label: Label | None) -> None:
        """Draw ``label`` (None: nothing to show)."""
        self.label = label
        self.layout_ = None if label is None else label_layout(label.zpl)
        self._matrices = [] if self.layout_ is None else [_matrix(qr) for qr in self.layout_.qr_codes]
        lines = [] if self.layout_ is None else [text.text for text in self.layout_.texts]
        self.setAccessibleName("Label preview" if label is not None else "Label preview: no label")
        self.setAccessibleDescription(" / ".join(lines))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(400 + 2 * MARGIN, 240 + 2 * MARGIN)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 120)

    def qr_placements(self) -> list[QrPlacement]:
        """Each QR code as it is drawn at the widget's present size."""
        if self.layout_ is None:
            return []
        origin, scale = self._mapping(self.layout_)
        return [
            QrPlacement(origin.x() + qr.x * scale, origin.y() + qr.y * scale, qr.module * scale, matrix)
            for qr, matrix in zip(self.layout_.qr_codes, self._matrices, strict=True)
        ]

    # --- drawing ---------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self.layout_ is None:
            painter.setPen(QColor(MUTED_TEXT))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No label")
        else:
            self._draw_label(painter, self.layout_)
        painter.end()

    def _mapping(self, layout: LabelLayout) -> tuple[QPointF, float]:
        """Top-left of the label in the widget, and pixels per printer dot."""
        room = QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        scale = max(0.01, min(room.width() / layout.width, room.height() / layout.height))
        left = room.left() + (room.width() - layout.width * scale) / 2
        top = room.top() + (room.height() - layout.height * scale) / 2
        return QPointF(left, top), scale

    def _draw_label(self, painter: QPainter, layout: LabelLayout) -> None:
        origin, scale = self._mapping(layout)
        painter.translate(origin)
        painter.scale(scale, scale)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(MUTED_TEXT), 1 / scale))
        painter.setBrush(PAPER)
        painter.drawRoundedRect(QRectF(0, 0, layout.width, layout.height), 8, 8)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # crisp modules and boxes
        for qr, matrix in zip(layout.qr_codes, self._matrices, strict=True):
            _draw_qr(painter, qr, matrix)
        for box in layout.boxes:
            painter.setPen(QPen(INK, box.thickness, Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap))
            painter.setBrush(
                INK if box.thickness * 2 >= min(box.width, box.height) else Qt.BrushStyle.NoBrush
            )
            painter.drawRect(QRectF(box.x, box.y, box.width, box.height))
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for text in layout.texts:
            _draw_text(painter, text)


def _matrix(qr: QrField) -> tuple[tuple[bool, ...], ...]:
    code = segno.make_qr(qr.data, error=qr.error.lower(), boost_error=False)
    return tuple(tuple(bool(module) for module in row) for row in code.matrix)


def _draw_qr(painter: QPainter, qr: QrField, matrix: tuple[tuple[bool, ...], ...]) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(INK)
    for row, modules in enumerate(matrix):
        for column, dark in enumerate(modules):
            if dark:
                painter.drawRect(
                    QRectF(qr.x + column * qr.module, qr.y + row * qr.module, qr.module, qr.module)
                )


def _draw_text(painter: QPainter, text: TextField) -> None:
    """``text`` in its field: a fixed-pitch face stretched to the printer's cell width, or sans-serif."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if text.monospace else QFont()
    font.setPixelSize(max(1, text.height))
    stretch = 1.0
    if text.monospace:
        advance = QFontMetricsF(font).horizontalAdvance(text.text)
        stretch = text.width * len(text.text) / advance if advance > 0 else 1.0
    painter.save()
    painter.setFont(font)
    painter.setPen(INK)
    painter.translate(text.x, text.y)
    painter.scale(stretch, 1.0)
    painter.drawText(QPointF(0, QFontMetricsF(font).ascent()), text.text)
    painter.restore()
