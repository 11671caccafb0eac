"""The bar under the header: what to do in this mode, and in RMA the operator's inputs for the flow.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> bar = ModeBar(); bar.show_mode("rma")
>>> bar.ask(ReturnedUnit("A1", eid="f00dfeed", label="ACME-0042"))      # a unit waits for its passphrase
>>> sorted(bar.questions), bar.accept_unknown.isChecked()             # acceptance starts off each time
(['A1'], False)
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from station.gui.model import modes
from station.gui.widgets.theme import light_field
from station.pipeline.modes.rma.wipe import ReturnedUnit

WIPE_VIA_BACKEND = "No passphrase: wipe through the backend"


class ModeBar(QWidget):
    passphrase_given = Signal(str, object)  # slot, passphrase (str) or None
    accept_unknown_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modebar")
        self.questions: dict[str, ReturnedUnit] = {}  # open questions by slot, oldest first
        self.guide = _label(16)
        self.accept_unknown = QCheckBox("Accept unknown units (each record says so, with your badge)")
        self.accept_unknown.setObjectName("accept-unknown")
        self.accept_unknown.toggled.connect(self.accept_unknown_changed)
        self.question = _label(18, bold=True)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("customer passphrase")
        self.passphrase.setMinimumWidth(320)
        light_field(self.passphrase)
        self.give = QPushButton("Use passphrase")
        self.skip = QPushButton(WIPE_VIA_BACKEND)
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
        row = QHBoxLayout(self.asking)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.question, self.passphrase, self.give, self.skip):
            row.addWidget(widget)
        row.addStretch(1)
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

    def ask(self, unit: ReturnedUnit) -> None:
        self.questions[unit.slot] = unit
        self._show_first()

    def drop(self, slot: str) -> None:
        """``slot``'s question has ended without an answer from here (timed out, withdrawn, unit gone)."""
        if self.questions.pop(slot, None) is not None:
            self._show_first()

    def clear_questions(self) -> None:
        self.questions.clear()
        self._show_first()

    def _show_first(self) -> None:
        self.passphrase.clear()
        if not self.questions:
            self.asking.hide()
            return
        unit = next(iter(self.questions.values()))
        others = [slot for slot in self.questions if slot != unit.slot]
        waiting = f"  (also waiting: {', '.join(others)})" if others else ""
        self.question.setText(f"Slot {unit.slot}: unit {unit.eid} “{unit.label}”{waiting}")
        self.asking.show()
        self.show()
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

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
        self.passphrase_given.emit(slot, passphrase)
        self._show_first()


def _label(pixels: int, *, bold: bool = False) -> QLabel:
    label = QLabel()
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    label.setFont(font)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
