"""One tile per fixture slot: the state word, icon and colour, the unit, the step, and what to do next.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> tile = Tile("A1")
>>> tile.show_view(TileView(TileState.PASS, unit_id="2023b758c209269a", instruction="Remove unit"))
>>> tile.texts()["word"], tile.texts()["instruction"]           # what the tile reads
('✔  PASS', 'Remove unit')
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.gui.model.palette import FOCUS_RING, STYLES, TileState
from station.gui.model.slots import TileView

WORD_PX = 28
NOMINAL_HEIGHT = 240  # tile height at which the type has its full size
MIN_SCALE = 0.8
MIN_WORD_PX = 20  # the state word never gets smaller than this (32 tiles on a 1600 px wide screen: 21)
MARGIN, GAP, BAR = 14, 4, 10


class Tile(QWidget):
    """The face of one slot. Knows nothing of events: it draws a ``TileView``."""

    activated = Signal(str)
    acknowledge_requested = Signal(str)
    state_shown = Signal(str, str)  # slot, TileState value: each time the shown state changes

    def __init__(self, slot: str, parent: QWidget | None = None, *, reader: bool = False) -> None:
        super().__init__(parent)
        self.slot = slot
        self.reader = reader  # a SpringCard reader slot: its caption says so
        self.view: TileView | None = None
        self.scale, self.margin = 1.0, MARGIN
        self.fonts = _fonts(self.scale)
        self.setObjectName(f"tile-{slot}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we fill every pixel ourselves
        self.show_view(TileView(TileState.EMPTY))

    def show_view(self, view: TileView) -> None:
        """Draw ``view``; nothing happens if it equals what is shown."""
        if view == self.view:
            return
        previous, self.view = self.view, view
        if previous is not None and previous.mode != view.mode:  # "RMA ATTENTION" needs more room
            self.fonts = _fonts(self.scale)
            _fit(self.fonts["word"], self.width() - 2 * self.margin, view.mode)
        self.update()
        if previous is None or previous.state is not view.state:
            word = STYLES[view.state].word
            self.setAccessibleName(f"Slot {self.slot}: {word}")
            self.state_shown.emit(self.slot, view.state.value)
        self.setAccessibleDescription(" ".join(text for text in self.texts().values() if text))

    def texts(self) -> dict[str, str]:
        """What the tile reads, part by part (for tests and for screen readers)."""
        view = self.view or TileView(TileState.EMPTY)
        style = STYLES[view.state]
        count = f"{view.progress[0]}/{view.progress[1]}" if view.progress is not None else ""
        return {
            "slot": f"{self.slot} · reader" if self.reader else self.slot,
            "elapsed": view.elapsed,
            "word": f"{style.icon}  {view.mode}{style.word}",
            "unit": view.unit_id,
            "step": view.step,
            "count": count,
            "reason": view.reason,
            "instruction": view.instruction,
            "note": view.note,
        }

    # --- drawing ---------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().window())
        view = self.view or TileView(TileState.EMPTY)
        style = STYLES[view.state]
        card = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(style.background))
        painter.drawRoundedRect(card, 10, 10)
        if self.hasFocus():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(FOCUS_RING), 5))
            painter.drawRoundedRect(card.adjusted(2, 2, -2, -2), 9, 9)
        painter.setPen(QColor(style.text))
        self._draw_text(painter, self.texts(), view.progress)
        painter.end()

    def _draw_text(self, painter: QPainter, texts: dict[str, str], progress: tuple[int, int] | None) -> None:
        margin = self.margin
        area = self.rect().adjusted(margin, margin - 4, -margin, -margin + 4)
        fonts = self.fonts
        top = _line(painter, fonts["slot"], area, area.top(), texts["slot"])
        right = Qt.AlignmentFlag.AlignRight
        _line(painter, fonts["elapsed"], area, area.top(), texts["elapsed"], align=right)
        y = _line(painter, fonts["word"], area, top + GAP, texts["word"])
        for part in ("unit", "step"):
            if texts[part]:
                y = _line(painter, fonts[part], area, y + GAP, texts[part])
        if progress is not None:
            y = self._draw_progress(painter, area, y + GAP + 2, progress, texts["count"])
        self._draw_advice(painter, texts, area, y)

    def _draw_advice(self, painter: QPainter, texts: dict[str, str], area: QRect, y: int) -> None:
        """Reason, instruction and note below ``y``. The instruction always shows; the note gives way."""
        fonts, width, bottom = self.fonts, area.width(), area.bottom()
        needed = _height(fonts["instruction"], width, texts["instruction"]) if texts["instruction"] else 0
        note = _height(fonts["note"], width, texts["note"]) if texts["note"] else 0
        one_reason_line = QFontMetrics(fonts["reason"]).height() if texts["reason"] else 0
        if note and y + one_reason_line + needed + note + 3 * GAP > bottom:
            note = 0  # a small tile: the hint goes, what to do with the unit stays
        if note:
            bottom -= note
            _paragraph(painter, fonts["note"], QRect(area.left(), bottom, width, note), texts["note"])
            bottom -= GAP
        if texts["reason"]:
            box = QRect(area.left(), y + GAP, width, max(0, bottom - needed - GAP - y - GAP))
            y = _paragraph(painter, fonts["reason"], box, texts["reason"])
        if texts["instruction"]:
            top = min(y + GAP, bottom - needed)
            box = QRect(area.left(), top, width, needed)
            _paragraph(painter, fonts["instruction"], box, texts["instruction"])

    def _draw_progress(
        self, painter: QPainter, area: QRect, y: int, progress: tuple[int, int], count: str
    ) -> int:
        metrics = QFontMetrics(self.fonts["count"])
        label_width = metrics.horizontalAdvance(count) + 8
        bar = QRect(area.left(), y + (metrics.height() - BAR) // 2, area.width() - label_width, BAR)
        colour = painter.pen().color()
        track = QColor(colour)
        track.setAlpha(70)
        painter.fillRect(bar, track)
        done, total = progress
        if total > 0:
            left_out = int(bar.width() * (1 - min(done, total) / total))
            painter.fillRect(bar.adjusted(0, 0, -left_out, 0), colour)
        return _line(painter, self.fonts["count"], area, y, count, align=Qt.AlignmentFlag.AlignRight)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        scale = max(MIN_SCALE, min(1.0, event.size().height() / NOMINAL_HEIGHT))
        self.scale, self.margin = scale, round(MARGIN * scale)
        self.fonts = _fonts(scale)
        _fit(self.fonts["word"], event.size().width() - 2 * self.margin, self.view.mode if self.view else "")

    def sizeHint(self) -> QSize:
        return QSize(260, NOMINAL_HEIGHT)

    # --- input -----------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.activated.emit(self.slot)
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.acknowledge_requested.emit(self.slot)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(self.slot)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()


def _fonts(scale: float) -> dict[str, QFont]:
    """The tile's faces at ``scale``: the state word ~28 px bold at full size, the unit id monospace."""
    sizes = {
        "slot": (20, True),
        "elapsed": (18, False),
        "word": (WORD_PX, True),
        "unit": (17, False),
        "step": (18, False),
        "count": (16, False),
        "reason": (16, False),
        "instruction": (18, True),
        "note": (14, False),
    }
    fonts = {}
    for part, (pixels, bold) in sizes.items():
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if part == "unit" else QFont()
        font.setPixelSize(max(10, round(pixels * scale)))
        font.setBold(bold)
        fonts[part] = font
    return fonts


def _fit(font: QFont, width: int, prefix: str = "") -> None:
    """Shrink the state-word face until the longest state word (after the mode's ``prefix``) fits ``width``,
    down to ``MIN_WORD_PX``."""
    longest = max((f"{style.icon}  {prefix}{style.word}" for style in STYLES.values()), key=len)
    while font.pixelSize() > MIN_WORD_PX and QFontMetrics(font).horizontalAdvance(longest) > width:
        font.setPixelSize(font.pixelSize() - 1)


def _line(
    painter: QPainter,
    font: QFont,
    area: QRect,
    y: int,
    text: str,
    *,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
) -> int:
    """One line at ``y`` (elided if too wide); returns the y below it."""
    metrics = QFontMetrics(font)
    painter.setFont(font)
    shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width())
    box = QRect(area.left(), y, area.width(), metrics.height())
    painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, shown)
    return y + metrics.height()


def _paragraph(painter: QPainter, font: QFont, box: QRect, text: str) -> int:
    """Word-wrapped text in ``box``: whole lines only, the last one elided if the text goes on.

    Returns the y below the last line drawn.
    """
    metrics = QFontMetrics(font)
    lines = _wrap(metrics, text, box.width())
    fits = max(0, box.height() // metrics.height())
    if len(lines) > fits:
        lines = lines[:fits]
        if lines:
            lines[-1] = metrics.elidedText(lines[-1] + " …", Qt.TextElideMode.ElideRight, box.width())
    painter.setFont(font)
    y = box.top()
    for line in lines:
        row = QRect(box.left(), y, box.width(), metrics.height())
        painter.drawText(row, Qt.AlignmentFlag.AlignLeft, line)
        y += metrics.height()
    return y


def _height(font: QFont, width: int, text: str) -> int:
    metrics = QFontMetrics(font)
    return len(_wrap(metrics, text, width)) * metrics.height()


def _wrap(metrics: QFontMetrics, text: str, width: int) -> list[str]:
    """Greedy word wrap at ``width`` pixels (a word longer than the line is elided)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and metrics.horizontalAdvance(candidate) > width:
            lines.append(current)
            candidate = word
        current = candidate
    if current:
        lines.append(current)
    return [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines]
