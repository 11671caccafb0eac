"""The strip at the bottom of the window: warnings, errors and verdicts of every slot, newest last.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> strip = LogStrip()
>>> strip.add(LogLine("A3", 0.0, "run-1", "info", "identify: ok"))    # info stays in the slot's panel
>>> strip.add(RunFinished("A3", 0.0, "run-1", Outcome.PASS, "2023b758c209269a", None))
>>> strip.toPlainText().split("  ", 1)[1].strip()
'A3  PASS 2023b758c209269a'
"""

from __future__ import annotations

import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from station.core.events import Event, LogLine, Outcome, RunFinished
from station.core.text import printable
from station.gui.model import words

MAX_LINES = 2000
LINE_LIMIT = 1000  # characters of one line; a unit's text in it is escaped (one line, no control codes)
VISIBLE_LINES = 4


class LogStrip(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("log")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPixelSize(14)
        self.setFont(font)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * VISIBLE_LINES + 12)

    def add(self, event: Event) -> None:
        line = _line(event)
        if line is not None:
            stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
            self.appendPlainText(f"{stamp}  {event.slot:>4}  {printable(line, LINE_LIMIT)}")

    def note(self, text: str) -> None:
        """A line from the window itself (an error it caught, a stop)."""
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}        {printable(text, LINE_LIMIT)}")


def _line(event: Event) -> str | None:
    if isinstance(event, LogLine):
        if event.level in ("info", "debug"):
            return None
        return f"{event.level.upper()} {_titled(event.message)}"
    if isinstance(event, RunFinished):
        unit = event.unit_id or "unit"
        if event.outcome is Outcome.PASS:
            return f"PASS {unit}"
        reason = words.failure_text(event.failed_step, event.message, event.failure_code)
        return f"{event.outcome.upper()} {unit}: {reason}"
    return None


def _titled(message: str) -> str:
    """``attest: retrying (2/3)`` -> ``Attestation: retrying (2/3)``: a step's title where its id leads."""
    step, found, rest = message.partition(": ")
    if found and step in words.STEP_TITLES:
        return f"{words.STEP_TITLES[step]}: {rest}"
    return message
