"""One tile per fixture slot: the state word, icon and colour, the unit, the step, and what to do next.

Example::

    tile = Tile("A1")
    tile.activated.connect(window.open_slot)            # click (or Enter): open the detail panel
    tile.acknowledge_requested.connect(window.acknowledge)   # Space on the focused tile
    tile.show_view(model.view())                         # redraws only what changed

Large type for a metre away: the state word is ~28 px bold (a little smaller when 32 tiles share the
screen), the unit id monospace. The background is painted here rather than by style sheets, so a state
change is one repaint, not a re-polish of every label (32 tiles, many events per second).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.gui.palette import FOCUS_RING, STYLES, TileState
from station.gui.slots import TileView

WORD_PX = 28
NOMINAL_HEIGHT = 240  # tile height at which the type has its full size
MIN_SCALE = 0.8


class ProgressStrip(QWidget):
    """A flat bar: ``done`` of ``total`` steps, drawn in the tile's text colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.done, self.total = 0, 0
        self.setFixedHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_progress(self, done: int, total: int) -> None:
        if (done, total) != (self.done, self.total):
            self.done, self.total = done, total
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        track = QColor(colour)
        track.setAlpha(70)
        painter.fillRect(self.rect(), track)
        if self.total > 0:
            width = int(self.width() * min(self.done, self.total) / self.total)
            painter.fillRect(0, 0, width, self.height(), colour)
        painter.end()


class Tile(QWidget):
    """The face of one slot. Knows nothing of events: it draws a ``TileView``."""

    activated = Signal(str)
    acknowledge_requested = Signal(str)
    state_shown = Signal(str, str)  # slot, TileState value: each time the shown state changes

    def __init__(self, slot: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.view: TileView | None = None
        self.setObjectName(f"tile-{slot}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAccessibleName(f"Slot {slot}")
        self._build()
        self.show_view(TileView(TileState.EMPTY))

    def _build(self) -> None:
        self.name = QLabel(self.slot)
        self.elapsed = QLabel()
        self.elapsed.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.word = QLabel()
        self.unit = QLabel()
        self.unit.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.step = QLabel()
        self.progress = ProgressStrip()
        self.count = QLabel()
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        for label in (self.reason, self.instruction, self.note, self.step, self.unit):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.name)
        top.addStretch(1)
        top.addWidget(self.elapsed)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.word)
        layout.addWidget(self.unit)
        layout.addWidget(self.step)
        layout.addLayout(bar)
        layout.addWidget(self.reason)
        layout.addWidget(self.instruction)
        layout.addStretch(1)
        layout.addWidget(self.note)
        self._apply_fonts(1.0)

    # --- drawing ---------------------------------------------------------------------------------------

    def show_view(self, view: TileView) -> None:
        """Draw ``view``; nothing happens if it equals what is shown."""
        if view == self.view:
            return
        previous, self.view = self.view, view
        style = STYLES[view.state]
        self.word.setText(f"{style.icon}  {style.word}")
        _set(self.unit, view.unit_id)
        _set(self.step, view.step)
        _set(self.elapsed, view.elapsed)
        _set(self.reason, view.reason)
        _set(self.instruction, view.instruction)
        _set(self.note, view.note)
        running = view.progress is not None
        self.progress.setVisible(running)
        self.count.setVisible(running)
        if view.progress is not None:
            self.progress.set_progress(*view.progress)
            self.count.setText(f"{view.progress[0]}/{view.progress[1]}")
        if previous is None or previous.state is not view.state:
            self._recolour(view.state)
            self.setAccessibleDescription(style.word)
            self.state_shown.emit(self.slot, view.state.value)

    def set_elapsed(self, text: str) -> None:
        """The once-a-second clock update of a running tile."""
        _set(self.elapsed, text)

    def _recolour(self, state: TileState) -> None:
        style = STYLES[state]
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(style.text))
        palette.setColor(QPalette.ColorRole.Text, QColor(style.text))
        self.setPalette(palette)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        state = self.view.state if self.view is not None else TileState.EMPTY
        rect = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STYLES[state].background))
        painter.drawRoundedRect(rect, 10, 10)
        if self.hasFocus():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(FOCUS_RING), 5))
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 9, 9)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        scale = max(MIN_SCALE, min(1.0, event.size().height() / NOMINAL_HEIGHT))
        self._apply_fonts(scale)

    def _apply_fonts(self, scale: float) -> None:
        if getattr(self, "_scale", None) == scale:
            return
        self._scale = scale
        _font(self.name, 20 * scale, bold=True)
        _font(self.elapsed, 18 * scale)
        _font(self.word, WORD_PX * scale, bold=True)
        _font(self.unit, 17 * scale, mono=True)
        _font(self.step, 18 * scale)
        _font(self.count, 16 * scale)
        _font(self.reason, 16 * scale)
        _font(self.instruction, 18 * scale, bold=True)
        _font(self.note, 14 * scale)

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


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
    label.setVisible(bool(text))


def _font(label: QLabel, pixels: float, *, bold: bool = False, mono: bool = False) -> None:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if mono else QFont(label.font())
    font.setPixelSize(max(10, round(pixels)))
    font.setBold(bold)
    label.setFont(font)
