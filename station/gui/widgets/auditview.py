"""The audit log view (Ctrl+L): who logged in, was refused, switched modes, reprinted labels; verified.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> view = AuditView(); view.show_entries([], AuditReport(checked=0, last_seq=0, problems=()))
>>> view.status.text()
'Verified ✔ — 0 entries, all listed: every signature and the chain hold (last seq 0).'
"""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.access.audit import AuditEntry
from station.access.auditverify import AuditReport
from station.gui.model import palette
from station.gui.model.readable import action_words, audit_sentence, local_time, verdict_colour, verdict_word
from station.gui.widgets.tables import read_only_table

COLUMNS = ("Seq", "Time (local)", "Badge", "Role", "Action", "Outcome", "Detail")
OUTCOME = COLUMNS.index("Outcome")
DETAIL = COLUMNS.index("Detail")


class AuditView(QDialog):
    refresh_requested = Signal()
    shown = Signal(bool)  # the entries are displayed; True when the whole log verified

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Station audit log")
        self.setObjectName("audit-view")
        self.resize(1200, 700)
        self.status = QLabel("Reading the audit log…")
        self.status.setWordWrap(True)
        font = QFont()
        font.setPixelSize(18)
        font.setBold(True)
        self.status.setFont(font)
        self.table = read_only_table(COLUMNS)
        self.entries: list[AuditEntry] = []
        self.broken: set[int] = set()
        self.raw = QPushButton("Show raw JSON")
        self.raw.setObjectName("raw-json")
        self.raw.setCheckable(True)
        self.raw.toggled.connect(self._raw_toggled)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.raw)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        self.status.setText("Reading the audit log…")
        self.refresh_requested.emit()

    def show_entries(self, entries: list[AuditEntry], report: AuditReport) -> None:
        self.entries, self.broken = entries, {problem.seq for problem in report.problems}
        self._fill()
        self.table.scrollToBottom()
        self._status(_status_text(report, len(entries)), report.ok)
        self.shown.emit(report.ok)

    def _fill(self) -> None:
        raw = self.raw.isChecked()
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            for column, text in enumerate(_cells(entry, entry.seq in self.broken, raw=raw)):
                item = QTableWidgetItem(text)
                if column == OUTCOME:
                    item.setForeground(QColor(verdict_colour(entry.outcome)))
                if column == 1:
                    item.setToolTip(entry.time)  # the stored UTC time
                if column == DETAIL and not raw:
                    item.setToolTip(_raw_detail(entry))
                self.table.setItem(row, column, item)

    def _raw_toggled(self, raw: bool) -> None:
        self.raw.setText("Show as sentences" if raw else "Show raw JSON")
        self._fill()

    def show_refusal(self, text: str) -> None:
        self.table.setRowCount(0)
        self._status(text, False)

    def _status(self, text: str, ok: bool) -> None:
        self.status.setText(text)
        colours = self.status.palette()
        colour = palette.VERIFIED_TEXT if ok else palette.UNVERIFIED_TEXT
        colours.setColor(QPalette.ColorRole.WindowText, QColor(colour))
        self.status.setPalette(colours)


def _raw_detail(entry: AuditEntry) -> str:
    return json.dumps(
        {key: value for key, value in entry.detail.items() if key != "face"}, ensure_ascii=False
    )


def _cells(entry: AuditEntry, broken: bool, *, raw: bool = False) -> tuple[str, ...]:
    """One row: in words and local time, or (``raw``) as stored: UTC time, action ids and JSON."""
    seq = f"✖ {entry.seq}" if broken else str(entry.seq)
    role = entry.actor_role or "-"
    if raw:
        return (seq, entry.time, entry.actor_id or "-", role, entry.action, entry.outcome, _raw_detail(entry))
    detail = audit_sentence(entry.action, entry.detail)
    action = action_words(entry.action)
    return (
        seq,
        local_time(entry.time),
        entry.actor_id or "-",
        role,
        action,
        verdict_word(entry.outcome),
        detail,
    )


def _status_text(report: AuditReport, shown: int) -> str:
    listed = f"the newest {shown} listed" if shown < report.checked else "all listed"
    if report.ok:
        return (
            f"Verified ✔ — {report.checked} entries, {listed}: every signature and the chain hold "
            f"(last seq {report.last_seq})."
        )
    first = report.first
    assert first is not None
    return (
        f"Broken at entry {first.seq} ✖ — {first.reason}. {len(report.problems)} entr"
        f"{'y' if len(report.problems) == 1 else 'ies'} fail the check; call the line engineer."
    )
