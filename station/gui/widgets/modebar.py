"""The bar under the header: what to do in this mode, and in RMA the passphrase question and acceptance.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> bar = ModeBar(); bar.show_mode("rma")
>>> bar.ask(ReturnedUnit("A1", eid="f00dfeed", label="ACME-0042"), devid="2023b758c209269a", wait=100)
>>> bar.question.text().split(":")[0], bar.accept_unknown.text()      # acceptance starts OFF each time
('Slot A1 — unit 2023b758c209269a “ACME-0042”', 'Accept unknown units: OFF')
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from station.gui.model import modes, palette
from station.gui.widgets.theme import light_field
from station.pipeline.modes.rma.wipe import ReturnedUnit

WIPE_VIA_BACKEND = "⚠ No passphrase: WIPE the unit through the backend"
ACCEPT_OFF = "Accept unknown units: OFF"
ACCEPT_ON = "Accept unknown units: ON — each record says so, with your badge"
_PRIMARY = f"QPushButton {{ background: {palette.HIGHLIGHT}; color: #FFFFFF; padding: 8px 16px; }}"
_DESTRUCTIVE = (
    f"QPushButton {{ background: {palette.DESTRUCTIVE}; color: #FFFFFF; padding: 8px 16px; "
    "border: 3px solid #FFFFFF; font-weight: bold; }"
)
_TOGGLE = (
    f"QPushButton {{ background: {palette.BUTTON}; color: {palette.WINDOW_TEXT}; padding: 6px 14px; "
    f"border: 2px solid {palette.MUTED_TEXT}; border-radius: 6px; }}"
    f"QPushButton:checked {{ background: {palette.STYLES[palette.TileState.ATTENTION].background}; "
    f"color: {palette.STYLES[palette.TileState.ATTENTION].text}; border: 3px solid #FFFFFF; "
    "font-weight: bold; }"
)


class ModeBar(QWidget):
    passphrase_given = Signal(str, object)  # slot, passphrase (str) or None
    accept_unknown_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modebar")
        self.questions: dict[str, ReturnedUnit] = {}  # open questions by slot, oldest first
        self.devids: dict[str, str] = {}
        self.guide = _label(16)
        self.accept_unknown = QPushButton(ACCEPT_OFF)  # a toggle that says its state in words
        self.accept_unknown.setObjectName("accept-unknown")
        self.accept_unknown.setCheckable(True)
        self.accept_unknown.setStyleSheet(_TOGGLE)
        self.accept_unknown.setFont(_font(16, bold=True))
        self.accept_unknown.toggled.connect(self._accept_toggled)
        self.question = _label(22, bold=True)
        self.countdown = _label(20, bold=True)
        self.countdown.setObjectName("countdown")
        self.deadlines: dict[str, float] = {}  # slot -> monotonic time its question ends
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("customer passphrase")
        self.passphrase.setMinimumWidth(320)
        light_field(self.passphrase)
        self.passphrase.setFont(_font(20))
        self.give = QPushButton("Use passphrase")
        self.give.setStyleSheet(_PRIMARY)
        self.give.setFont(_font(18, bold=True))
        self.skip = QPushButton(WIPE_VIA_BACKEND)
        self.skip.setObjectName("wipe-via-backend")
        self.skip.setStyleSheet(_DESTRUCTIVE)
        self.skip.setFont(_font(18, bold=True))
        self.passphrase.returnPressed.connect(self._give)
        self.give.clicked.connect(self._give)
        self.skip.clicked.connect(self._skip)
        self._arrange()
        self.show_mode(None)

    def _arrange(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.guide, 1)
        top.addWidget(self.accept_unknown)
        self.asking = QWidget()
        self.asking.setObjectName("asking")
        column = QVBoxLayout(self.asking)
        column.setContentsMargins(0, 6, 0, 0)
        heading = QHBoxLayout()
        heading.addWidget(self.question, 1)
        heading.addWidget(self.countdown)
        column.addLayout(heading)
        row = QHBoxLayout()
        for widget in (self.passphrase, self.give):
            row.addWidget(widget)
        row.addSpacing(40)  # the destructive choice stands apart from the safe one
        row.addWidget(self.skip)
        row.addStretch(1)
        column.addLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 6, 16, 6)
        layout.addLayout(top)
        layout.addWidget(self.asking)
        self.asking.hide()

    def show_mode(self, mode: str | None) -> None:
        """The guide of ``mode``; the RMA controls only in RMA (the acceptance starts off each time)."""
        self.guide.setText(modes.GUIDES.get(mode or "", ""))
        self.accept_unknown.setChecked(False)
        self.accept_unknown.setVisible(mode == "rma")
        self.setVisible(mode in ("qa", "rma"))
        if mode != "rma":
            self.clear_questions()

    # --- questions ---------------------------------------------------------------------------------------

    def ask(self, unit: ReturnedUnit, *, devid: str = "", wait: float | None = None) -> None:
        """``unit`` waits for its passphrase; ``devid``: the unit's id as its tile shows it, ``wait``:
        seconds until the question ends by itself (shown counting down)."""
        self.questions[unit.slot] = unit
        self.devids[unit.slot] = devid
        if wait is not None:
            self.deadlines[unit.slot] = time.monotonic() + wait
        self._show_first()

    def drop(self, slot: str) -> None:
        """``slot``'s question has ended without an answer from here (timed out, withdrawn, unit gone)."""
        if self.questions.pop(slot, None) is not None:
            self.deadlines.pop(slot, None)
            self._show_first()

    def clear_questions(self) -> None:
        self.questions.clear()
        self.deadlines.clear()
        self._show_first()

    @property
    def open_question(self) -> bool:
        return bool(self.questions)

    def _show_first(self) -> None:
        self.passphrase.clear()
        if not self.questions:
            self.asking.hide()
            self.clock.stop()
            return
        unit = next(iter(self.questions.values()))
        others = [slot for slot in self.questions if slot != unit.slot]
        waiting = f"  (also waiting: {', '.join(others)})" if others else ""
        name = self.devids.get(unit.slot) or f"{unit.eid[:12]}…"
        label = f" “{unit.label}”" if unit.label else ""
        self.question.setText(f"Slot {unit.slot} — unit {name}{label}: the customer's passphrase?{waiting}")
        self.question.setToolTip(f"eid {unit.eid}")
        self.asking.show()
        self.show()
        self._tick()
        self.clock.start()
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

    def _tick(self) -> None:
        """The first question's time left, as m:ss; amber in its last 20 s."""
        slot = next(iter(self.questions), None)
        deadline = self.deadlines.get(slot or "")
        if deadline is None:
            self.countdown.setText("")
            return
        left = max(0, int(deadline - time.monotonic()))
        self.countdown.setText(f"{left // 60}:{left % 60:02d} left to answer")

    def _accept_toggled(self, on: bool) -> None:
        self.accept_unknown.setText(ACCEPT_ON if on else ACCEPT_OFF)
        self.accept_unknown_changed.emit(on)

    def _give(self) -> None:
        typed = self.passphrase.text()
        self.passphrase.clear()  # the passphrase lives no longer than this call
        if typed:
            self._answer(typed)

    def _skip(self) -> None:
        self._answer(None)

    def _answer(self, passphrase: str | None) -> None:
        if not self.questions:
            return
        slot = next(iter(self.questions))
        del self.questions[slot]
        self.deadlines.pop(slot, None)
        self.passphrase_given.emit(slot, passphrase)
        self._show_first()


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _label(pixels: int, *, bold: bool = False) -> QLabel:
    label = QLabel()
    label.setFont(_font(pixels, bold=bold))
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
