"""The side panel of one slot: the unit's step timeline, the slot's live log, the record and its check.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> panel = DetailPanel(); panel.show_slot(SlotModel("A1"), None)        # the slot the operator opened
>>> panel.slot
'A1'
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.core.events import Outcome
from station.gui.model import palette, words
from station.gui.model.palette import STYLES
from station.gui.model.slots import LOG_LINES, RunView, SlotModel
from station.gui.model.verdicts import MODE_PREFIX
from station.gui.widgets.labelpreview import LabelPreview
from station.gui.widgets.records_view import links_line
from station.gui.widgets.tables import read_only_table
from station.labels.service import Label
from station.records.view import RecordView

COLUMNS = ("Step", "Outcome", "Seconds", "Attempts", "Message")


class DetailPanel(QWidget):
    """Timeline, log and record of the slot the operator clicked."""

    check_requested = Signal(str)
    label_requested = Signal(str)
    acknowledge_requested = Signal(str)
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detail")
        self.model: SlotModel | None = None
        self.run: RunView | None = None
        self._seen = 0
        self._requested: set[str] = set()
        self.labels: dict[str, Label | None] = {}  # record id -> its label (None: it gets none)
        self.labels_enabled = False
        self.preview = LabelPreview()
        self.preview.setMinimumHeight(90)
        self.preview.hide()
        self.checks: dict[str, tuple[str, bool]] = {}  # record id → (verification line, verified)
        self.title = _plain_label()  # they show a unit's id and messages: never read as rich text
        self.title.setFont(_font(22, bold=True))
        self.verdict = _plain_label()
        self.verdict.setWordWrap(True)
        self.verdict.setFont(_font(18))
        self.timeline = _timeline_table()
        self.record = _plain_label()
        self.record.setWordWrap(True)
        self.record.setFont(_font(15))
        self.record.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        for small in (self.timeline, self.log):  # docked below 32 tiles the panel may be short: they scroll
            small.setMinimumHeight(48)
        self._arrange()

    def _arrange(self) -> None:
        """Docked below the tiles: the unit and what to do on the left, the record, label and log beside."""
        self.acknowledge = QPushButton("✔ Done — unit set aside (Space)")
        self.acknowledge.setObjectName("acknowledge")
        self.acknowledge.setFont(_font(20, bold=True))
        self.acknowledge.setMinimumHeight(52)
        self.acknowledge.clicked.connect(self._acknowledge)
        close = QPushButton("Close (Esc)")
        close.setFont(_font(18))
        close.setMinimumHeight(52)
        close.clicked.connect(self.close_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.acknowledge)
        buttons.addStretch(1)
        buttons.addWidget(close)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.verdict)
        left.addWidget(self.timeline, 1)
        left.addLayout(buttons)
        right = QVBoxLayout()
        right.addWidget(self.record)
        right.addWidget(self.preview, 2)
        right.addWidget(QLabel("Log of this slot"))
        right.addWidget(self.log, 2)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    @property
    def slot(self) -> str | None:
        return None if self.model is None else self.model.slot

    def show_slot(self, model: SlotModel, run: RunView | None) -> None:
        """Pin ``run`` of ``model``'s slot and fill the log from the slot's history."""
        self.model, self.run = model, run
        self.log.setPlainText("\n".join(model.log))
        self._seen = model.logged
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the model after an event of this slot."""
        model = self.model
        if model is None:
            return
        shown = model.shown_run(time.time())
        looking_at_failure = self.run is not None and self.run.needs_operator
        if shown is not None and not looking_at_failure:
            self.run = shown  # follow the tile, unless the operator opened a failure to read it
        self._append_log(model)
        run = self.run
        self.acknowledge.setVisible(model.alert is not None)
        unit = f" — unit {run.unit_id}" if run is not None and run.unit_id else ""
        self.title.setText(f"Slot {model.slot}{unit}")
        self.verdict.setText(_verdict(run))
        _fill(self.timeline, run)
        self._show_record(run)

    def show_check(self, record_id: str, view: RecordView) -> None:
        checks = view.checks
        mark = "verified ✔" if checks.ok else "verification FAILED ✖"
        parts = f"signature: {checks.signature}; chain: {checks.chain}; certificate: {checks.certificate}"
        line = f"{mark} — {parts}{links_line(view)}"
        self.checks[record_id] = (line, checks.ok)
        if self.run is not None and self.run.record_id == record_id:
            self._show_record(self.run)

    def show_check_error(self, record_id: str, text: str) -> None:
        self.checks[record_id] = (f"not verified: {text}", False)
        if self.run is not None and self.run.record_id == record_id:
            self._show_record(self.run)

    def show_label(self, record_id: str, label: Label | None) -> None:
        """The label of a record (None: it gets none); shown if the panel still shows that record."""
        self.labels[record_id] = label
        if self.run is not None and self.run.record_id == record_id:
            self._show_label(record_id)

    def _show_label(self, record_id: str) -> None:
        label = self.labels.get(record_id)
        if label is not self.preview.label:
            self.preview.show_label(label)
        self.preview.setVisible(label is not None)

    def _show_record(self, run: RunView | None) -> None:
        if run is None or run.record_id is None:
            self._record_text("Record: written when the unit finishes", None)
            self.preview.hide()
            return
        record_id = run.record_id
        self._show_label(record_id)
        if self.labels_enabled and run.outcome is Outcome.PASS and record_id not in self.labels:
            self.labels[record_id] = None  # asked once; the answer replaces it
            self.label_requested.emit(record_id)
        if record_id not in self._requested:
            self._requested.add(record_id)
            self.check_requested.emit(record_id)
        line, verified = self.checks.get(record_id, ("verifying…", None))
        self._record_text(f"Record {record_id}\n{line}", verified)

    def _record_text(self, text: str, verified: bool | None) -> None:
        colours_by_result: dict[bool | None, str] = {
            True: palette.VERIFIED_TEXT,
            False: palette.UNVERIFIED_TEXT,
        }
        colour = colours_by_result.get(verified, palette.WINDOW_TEXT)
        if self.record.text() != text:
            self.record.setText(text)
            colours = self.record.palette()
            colours.setColor(QPalette.ColorRole.WindowText, QColor(colour))
            self.record.setPalette(colours)

    def _append_log(self, model: SlotModel) -> None:
        lines = model.new_log_lines(self._seen)
        self._seen = model.logged
        for line in lines:
            self.log.appendPlainText(line)

    def _acknowledge(self) -> None:
        if self.model is not None:
            self.acknowledge_requested.emit(self.model.slot)


def _verdict(run: RunView | None) -> str:
    if run is None:
        return "No unit yet."
    prefix = MODE_PREFIX.get(run.mode, "")
    if run.outcome is None:
        current = words.step_title(run.step) or "starting"
        waiting = f" — {run.prompt}" if run.prompt else ""
        done = f"({run.done}/{len(run.steps)} steps done)"
        return f"{STYLES[run.state].icon} {prefix}Running: {current} {done}{waiting}"
    style = STYLES[run.state]
    advice = run.advice()
    head = f"{style.icon} {prefix}{style.word} — "
    if not run.needs_operator:
        return head + ". ".join(part for part in (advice.reason, advice.instruction) if part)
    detail = run.label_fault or run.message  # the technical words: here and in the record, not on the tile
    code = f" [{run.code}]" if run.code else ""
    return f"{head}{advice.reason}. {advice.instruction}\n{detail}{code}"


def _timeline_table() -> QTableWidget:
    table = read_only_table(COLUMNS)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return table


def _fill(table: QTableWidget, run: RunView | None) -> None:
    lines = [] if run is None else run.timeline
    table.setRowCount(len(lines))
    for row, line in enumerate(lines):
        cells = (
            words.step_title(line.name),
            "running" if line.outcome is None else line.outcome.value,
            "" if line.seconds is None else f"{line.seconds:.2f}",
            str(line.attempts),
            line.message,
        )
        for column, text in enumerate(cells):
            item = table.item(row, column)
            if item is None:
                table.setItem(row, column, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)
            cell = table.item(row, column)
            if column == len(COLUMNS) - 1 and cell is not None:
                cell.setToolTip(text)


def _plain_label() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font
