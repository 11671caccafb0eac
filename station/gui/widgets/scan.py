"""Scanner input lands in the field that wants it now; while a question is open, every key goes to it.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> window = QWidget(); field = QLineEdit(window); combo = QComboBox(window)
>>> router = ScanRouter(window, field)                  # installed as the application's event filter
>>> key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_7, Qt.KeyboardModifier.NoModifier, "7")
>>> router.eventFilter(combo, key), field.text()        # typed on another widget, lands in the field
(True, '7')
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

SCAN_PUNCTUATION = set("-_./:#")
_TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)
_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
_BUTTON_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
_EDIT_KEYS = (Qt.Key.Key_Backspace, Qt.Key.Key_Return, Qt.Key.Key_Enter)
Question = Callable[[], tuple[QLineEdit, QWidget] | None]  # the open question's field and its row, or None


class ScanRouter(QObject):
    """Application event filter; only keys aimed at ``window``'s non-text widgets are redirected."""

    def __init__(self, window: QWidget, field: QLineEdit) -> None:
        super().__init__(window)
        self.window = window
        self.field = field
        self.restore_focus = True
        self._previous: QWidget | None = None
        self.question: Question = lambda: None  # the window says which question is open
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

    def forget(self) -> None:
        """The scan moved the focus itself (a slot's name): do not put it back where it was."""
        self._previous = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or not isinstance(
            watched, QWidget
        ):
            return False
        assert isinstance(event, QKeyEvent)
        asked = self.question() if watched.window() is self.window else None
        if asked is not None:
            return self._to_question(watched, event, *asked)
        if kind != QEvent.Type.KeyPress or not self._scan_character(watched, event):
            return False
        if not self.field.hasFocus():
            self._previous = watched
            self.field.clear()
            self.field.setFocus(Qt.FocusReason.OtherFocusReason)
        self.field.insert(event.text())
        return True

    def _to_question(self, watched: QWidget, event: QKeyEvent, field: QLineEdit, row: QWidget) -> bool:
        """Every key goes to the open question: no shortcut fires (F-keys, Ctrl+R, Esc), typing lands in
        its field whatever had the focus; its own buttons still take Tab, Space and Enter."""
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # "this widget wants the key": Qt delivers it as a key press, no shortcut
            return True
        if watched is field:
            return False
        if watched.isAncestorOf(field):  # the field ignored it and Qt hands it to a parent: it ends here
            return True
        if row.isAncestorOf(watched) and event.key() in _BUTTON_KEYS:
            return False
        field.setFocus(Qt.FocusReason.OtherFocusReason)
        if (event.text().isprintable() and event.text()) or event.key() in _EDIT_KEYS:
            copy = QKeyEvent(event.type(), event.key(), event.modifiers(), event.text())
            QApplication.sendEvent(field, copy)
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
