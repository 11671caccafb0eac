"""One tile per fixture slot: the state word, icon and colour, the unit, the step, and what to do next.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> tile = Tile("A1")
>>> tile.show_view(TileView(TileState.PASS, unit_id="2023b758c209269a", instruction="Remove unit"))
>>> tile.texts()["word"], tile.texts()["instruction"]           # what the tile reads
('✔  PASS', 'Remove unit')
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QRect, QRectF, QSize, Qt, Signal
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

from station.gui.model.palette import ASKING, FOCUS_RING, STYLES, TileState
from station.gui.model.slots import TileView

WORD_PX = 28
NOMINAL_HEIGHT = 240  # tile height at which the type has its nominal size; it grows with taller tiles
MIN_SCALE = 0.8
MAX_SCALE = 2.2  # a 4-fixture bench on a large screen: big, not absurd
MIN_WORD_PX = 18  # the state word never gets smaller than this (32 tiles on a 1600 px wide screen: 18)
MIN_ACT_PX = 12  # the instruction shrinks to fit whole, never below this
MARGIN, GAP, BAR = 14, 4, 10
INSET = 6  # between the widget's edge and the card: the focus ring lives here, outside every state
STRIPE = 14  # width of a hazard stripe / hatch line spacing at nominal size


class Tile(QWidget):
    """The face of one slot. Knows nothing of events: it draws a ``TileView``."""

    activated = Signal(str)
    acknowledge_requested = Signal(str)
    move_requested = Signal(str, int, int)  # slot, rows, columns: an arrow key
    state_shown = Signal(str, str)  # slot, TileState value: each time the shown state changes

    def __init__(self, slot: str, parent: QWidget | None = None, *, reader: bool = False) -> None:
        super().__init__(parent)
        self.slot = slot
        self.reader = reader  # a SpringCard reader slot: its caption says so
        self.view: TileView | None = None
        self.scale, self.margin = 1.0, MARGIN
        self.fonts = _fonts(self.scale)
        self._fitted: dict[tuple[str, str, int, int], QFont] = {}
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
        icon, word = ASKING if view.asking else (style.icon, style.word)
        kind = "reader" if self.reader else ""
        count = f"{view.progress[0]}/{view.progress[1]}" if view.progress is not None else ""
        return {
            # The mode names the slot's work ("A1 · RMA") on its line: the state word keeps its size.
            "slot": " · ".join(part for part in (self.slot, kind, view.mode.strip()) if part),
            "elapsed": view.elapsed,
            "word": f"{icon}  {word}",
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
        card = QRectF(self.rect()).adjusted(INSET, INSET, -INSET, -INSET)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(style.background))
        painter.drawRoundedRect(card, 10, 10)
        _draw_pattern(painter, card, style.pattern, QColor(style.text), self.scale)
        if view.flagged:  # a PASS with something left to do: the hazard bands of ATTENTION
            _draw_pattern(painter, card, "stripes", QColor(style.text), self.scale)
        if self.hasFocus():  # outside the card, two tones: no state has a ring, white or black edge
            outer, inner = FOCUS_RING
            ring = QRectF(self.rect()).adjusted(2, 2, -2, -2)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(outer), 4))
            painter.drawRoundedRect(ring, 12, 12)
            painter.setPen(QPen(QColor(inner), 2))
            painter.drawRoundedRect(ring.adjusted(3, 3, -3, -3), 11, 11)
        painter.setPen(QColor(style.text))
        self._draw_text(painter, self.texts(), view.progress)
        painter.end()

    def _draw_text(self, painter: QPainter, texts: dict[str, str], progress: tuple[int, int] | None) -> None:
        margin = self.margin + INSET
        area = self.rect().adjusted(margin, margin - 4, -margin, -margin + 4)
        view = self.view or TileView(TileState.EMPTY)
        if view.flagged or STYLES[view.state].pattern == "stripes":  # text never sits on the hazard bands
            band = round(_band(self.scale)) - 4
            area.adjust(0, band, 0, -band)
        fonts = self.fonts
        slot, elapsed = _side_by_side(
            fonts["slot"], texts["slot"], fonts["elapsed"], texts["elapsed"], area.width()
        )
        top = _line(painter, slot, area, area.top(), texts["slot"])
        right = Qt.AlignmentFlag.AlignRight
        _line(painter, elapsed, area, area.top(), texts["elapsed"], align=right)
        y = _line(painter, fonts["word"], area, top + GAP, texts["word"])
        # The instruction must show whole, at the smallest face at worst; the unit, step and progress lines
        # take only the room left above it (a short tile, with the panel open, keeps what to do).
        smallest = QFont(fonts["instruction"])
        smallest.setPixelSize(MIN_ACT_PX)
        need = _height(smallest, area.width(), texts["instruction"]) + GAP if texts["instruction"] else 0

        def room(font: QFont) -> bool:
            return y + GAP + QFontMetrics(font).height() <= area.bottom() - need

        if texts["unit"]:  # the whole id: its face shrinks to fit the line
            unit = self._fit_text("unit", texts["unit"], area.width(), 0)
            if room(unit):
                y = _line(painter, unit, area, y + GAP, texts["unit"])
        step = self._fit_text("step", texts["step"], area.width(), 0)  # the whole step title, on its line
        if texts["step"] and room(step):
            y = _line(painter, step, area, y + GAP, texts["step"])
        if progress is not None and room(fonts["count"]):
            y = self._draw_progress(painter, area, y + GAP + 2, progress, texts["count"])
        self._draw_advice(painter, texts, area, y)

    def _draw_advice(self, painter: QPainter, texts: dict[str, str], area: QRect, y: int) -> None:
        """Reason, instruction and note below ``y``. The instruction always shows whole (its face shrinks
        until it fits); then the reason; the note gives way first."""
        width, bottom = area.width(), area.bottom()
        reason_font = self._fit_text("reason", texts["reason"], width, 10_000)  # whole words; it may elide
        note = _height(self.fonts["note"], width, texts["note"]) if texts["note"] else 0
        smallest = QFont(self.fonts["instruction"])
        smallest.setPixelSize(MIN_ACT_PX)
        least = _height(smallest, width, texts["instruction"]) if texts["instruction"] else 0
        one_reason_line = QFontMetrics(reason_font).height() if texts["reason"] else 0
        if note and y + one_reason_line + least + note + 3 * GAP > bottom:
            note = 0  # a small tile: the hint goes, what to do with the unit stays
        if note:
            bottom -= note
            _paragraph(painter, self.fonts["note"], QRect(area.left(), bottom, width, note), texts["note"])
            bottom -= GAP
        reason_height = _height(reason_font, width, texts["reason"]) if texts["reason"] else 0
        room = bottom - y - 2 * GAP
        # The instruction grows with the tile, but leaves the reason its lines (up to half the room).
        instruction = self._fit_text(
            "instruction", texts["instruction"], width, room - min(reason_height, room // 2)
        )
        needed = _height(instruction, width, texts["instruction"]) if texts["instruction"] else 0
        if texts["reason"]:
            box = QRect(area.left(), y + GAP, width, max(0, bottom - needed - GAP - y - GAP))
            y = _paragraph(painter, reason_font, box, texts["reason"])
        if texts["instruction"]:
            top = max(y + GAP, bottom - needed - GAP) if needed < bottom - y else y + GAP
            box = QRect(area.left(), top, width, max(0, min(needed, bottom - top + 4)))
            _paragraph(painter, instruction, box, texts["instruction"])

    def _fit_text(self, part: str, text: str, width: int, height: int) -> QFont:
        """The part's face fitted to ``text`` in the box, or on one line when ``height`` is 0 (remembered
        until the tile's size changes)."""
        key = (part, text, width, height)
        font = self._fitted.get(key)
        if font is None:
            if len(self._fitted) > 64:
                self._fitted.clear()
            fit = (
                _fitting(self.fonts[part], text, width, height)
                if height
                else _one_line(self.fonts[part], text, width)
            )
            font = self._fitted[key] = fit
        return font

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
        self._refit(event.size())

    def _refit(self, size: QSize) -> None:
        """Faces sized from the tile's height, then shrunk so whole words fit its width."""
        scale = max(MIN_SCALE, min(MAX_SCALE, size.height() / NOMINAL_HEIGHT))
        self.scale, self.margin = scale, round(MARGIN * min(scale, 1.0))
        self.fonts = _fonts(scale)
        width = size.width() - 2 * (self.margin + INSET)
        _fit(self.fonts["word"], width)
        self._fitted.clear()

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
        arrows = {
            Qt.Key.Key_Left: (0, -1),
            Qt.Key.Key_Right: (0, 1),
            Qt.Key.Key_Up: (-1, 0),
            Qt.Key.Key_Down: (1, 0),
        }
        if event.key() == Qt.Key.Key_Space:
            self.acknowledge_requested.emit(self.slot)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(self.slot)
        elif event.key() in arrows:
            self.move_requested.emit(self.slot, *arrows[Qt.Key(event.key())])
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
    sizes = {  # part: (pixels at nominal size, bold, how far it grows on a tall tile)
        "slot": (20, True, 1.4),
        "elapsed": (18, False, 1.3),
        "word": (WORD_PX, True, 1.6),
        "unit": (17, False, 1.2),
        "step": (18, False, 1.6),
        "count": (16, False, 1.4),
        "reason": (17, False, 1.7),
        "instruction": (20, True, 2.0),  # what the operator does: the largest text after the state word
        "note": (15, False, 1.3),
    }
    fonts = {}
    for part, (pixels, bold, most) in sizes.items():
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if part == "unit" else QFont()
        font.setPixelSize(max(10, round(pixels * min(scale, most))))
        font.setBold(bold)
        fonts[part] = font
    return fonts


def _fit(font: QFont, width: int, prefix: str = "") -> None:
    """Shrink the state-word face until every state word (after the mode's ``prefix``) fits ``width``,
    down to ``MIN_WORD_PX``."""
    words = [f"{style.icon}  {prefix}{style.word}" for style in STYLES.values()]
    words.append(f"{ASKING[0]}  {prefix}{ASKING[1]}")
    while font.pixelSize() > MIN_WORD_PX:
        metrics = QFontMetrics(font)
        if max(metrics.horizontalAdvance(word) for word in words) < width - 2:
            break
        font.setPixelSize(font.pixelSize() - 1)


def _fitting(font: QFont, text: str, width: int, height: int) -> QFont:
    """``font`` or a smaller copy in which ``text`` fits ``width`` x ``height`` whole, and its longest word
    fits a line (wrapping never cuts a word), down to ``MIN_ACT_PX``."""
    fitted = QFont(font)
    words = text.split()
    while fitted.pixelSize() > MIN_ACT_PX and words:
        metrics = QFontMetrics(fitted)
        widest = max(metrics.horizontalAdvance(word) for word in words)
        if widest < width - 2 and _height(fitted, width, text) <= height:
            break
        fitted.setPixelSize(fitted.pixelSize() - 1)
    return fitted


def _draw_pattern(painter: QPainter, card: QRectF, pattern: str, ink: QColor, scale: float) -> None:
    """The state's second cue, besides its colour (palette.Style.pattern)."""
    if not pattern:
        return
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    step = max(8.0, STRIPE * scale)
    if pattern in ("hatch", "cross"):
        faint = QColor(ink)
        faint.setAlpha(34)
        _diagonals(painter, card, faint, step, step / 4, both=pattern == "cross")
        painter.setPen(QPen(QColor("#000000"), max(5.0, 6 * scale)))  # black: white is the focus ring's
        painter.drawRoundedRect(card.adjusted(3, 3, -3, -3), 8, 8)
    elif pattern == "stripes":
        band = _band(scale)
        dark = QColor("#1A1200")
        dark.setAlpha(200)
        for top in (card.top(), card.bottom() - band):
            _diagonals(painter, QRectF(card.left(), top, card.width(), band), dark, step, step / 2.5)
    elif pattern in ("outline", "dashes", "frame"):
        line = QColor(ink)
        line.setAlpha(150 if pattern == "outline" else 255)
        pen = QPen(line, 2 if pattern == "outline" else 5)
        if pattern != "frame":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(card.adjusted(2, 2, -2, -2), 9, 9)
    elif pattern == "tick":
        faint = QColor(ink)
        faint.setAlpha(40)
        font = QFont()
        font.setPixelSize(int(min(card.width(), card.height()) * 0.45))
        painter.setFont(font)
        painter.setPen(faint)
        painter.drawText(
            card.adjusted(0, 0, -8, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "✔"
        )
    painter.restore()


def _one_line(font: QFont, text: str, width: int) -> QFont:
    """``font`` or a smaller copy in which ``text`` fits one line of ``width`` (to ``MIN_ACT_PX``)."""
    fitted = QFont(font)
    while fitted.pixelSize() > MIN_ACT_PX and QFontMetrics(fitted).horizontalAdvance(text) >= width - 2:
        fitted.setPixelSize(fitted.pixelSize() - 1)
    return fitted


def _side_by_side(left: QFont, first: str, right: QFont, second: str, width: int) -> tuple[QFont, QFont]:
    """Faces for two texts on one line (the slot and its clock) that do not overlap: the left one gives
    way first, then both, down to ``MIN_ACT_PX``."""
    left, right = QFont(left), QFont(right)
    while (
        QFontMetrics(left).horizontalAdvance(first) + QFontMetrics(right).horizontalAdvance(second) + 10
        > width
    ):
        if left.pixelSize() > max(MIN_ACT_PX, right.pixelSize()):
            left.setPixelSize(left.pixelSize() - 1)
        elif right.pixelSize() > MIN_ACT_PX:
            right.setPixelSize(right.pixelSize() - 1)
            left.setPixelSize(max(MIN_ACT_PX, left.pixelSize() - 1))
        else:
            break
    return left, right


def _band(scale: float) -> float:
    """Height of an ATTENTION tile's hazard band."""
    return max(8.0, 12 * scale)


def _diagonals(
    painter: QPainter, box: QRectF, colour: QColor, step: float, width: float, *, both: bool = False
) -> None:
    """Parallel 45° lines across ``box`` (clipped to it); ``both``: the other diagonal too."""
    painter.save()
    painter.setClipRect(box)
    painter.setPen(QPen(colour, width))
    span = box.width() + box.height()
    offset = 0.0
    while offset < span:
        x = box.left() + offset
        painter.drawLine(QLineF(x, box.top(), x - box.height(), box.bottom()))
        if both:
            painter.drawLine(QLineF(x - box.height(), box.top(), x, box.bottom()))
        offset += step
    painter.restore()


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
    return [
        line
        if metrics.horizontalAdvance(line) <= width
        else metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
        for line in lines
    ]
