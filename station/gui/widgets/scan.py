"""Scanner input lands in the field that wants it now, wherever the focus is in the window.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> window = QWidget(); field = QLineEdit(window); combo = QComboBox(window)
>>> router = ScanRouter(window, field)                  # installed as the application's event filter
>>> key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_7, Qt.KeyboardModifier.NoModifier, "7")
>>> router.eventFilter(combo, key), field.text()        # typed on another widget, lands in the field
(True, '7')
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

SCAN_PUNCTUATION = set("-_./:#")
_TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)
_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


class ScanRouter(QObject):
    """Application event filter; only keys aimed at ``window``'s non-text widgets are redirected."""

    def __init__(self, window: QWidget, field: QLineEdit) -> None:
        super().__init__(window)
        self.window = window
        self.field = field
        self.restore_focus = True
        self._previous: QWidget | None = None
        field.returnPressed.connect(self._restore_focus)

    def set_field(self, field: QLineEdit, *, restore_focus: bool = True) -> None:
        """Send scans to ``field`` from now on; ``restore_focus`` False: its Enter moves on by itself (the
        badge field hands over to the PIN field)."""
        self.restore_focus, self._previous = restore_focus, None
        if field is self.field:
            return
        self.field.returnPressed.disconnect(self._restore_focus)
        self.field = field
        field.returnPressed.connect(self._restore_focus)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWidget):
            return False
        assert isinstance(event, QKeyEvent)
        if not self._scan_character(watched, event):
            return False
        if not self.field.hasFocus():
            self._previous = watched
            self.field.clear()
            self.field.setFocus(Qt.FocusReason.OtherFocusReason)
        self.field.insert(event.text())
        return True

    def _scan_character(self, watched: QWidget, event: QKeyEvent) -> bool:
        text = event.text()
        if len(text) != 1 or not (text.isalnum() or text in SCAN_PUNCTUATION):
            return False
        if event.modifiers() & _MODIFIERS:
            return False
        if watched is self.field or isinstance(watched, _TEXT_INPUTS):
            return False
        if isinstance(watched, QComboBox) and watched.isEditable():
            return False
        return watched.window() is self.window

    def _restore_focus(self) -> None:
        previous, self._previous = self._previous, None
        if self.restore_focus and previous is not None and previous.isVisible():
            previous.setFocus(Qt.FocusReason.OtherFocusReason)
