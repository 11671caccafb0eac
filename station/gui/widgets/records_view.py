"""The records view (Ctrl+R): find records by device, genuine or record id, read one verified, export some.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> view = RecordsView(RecordChecker(store=None, trust=None))         # look-ups run on the checker's thread
>>> view.show_found("2023b758c209269a", [], {}); view.table.rowCount()
0
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.cli.recordtext import format_view
from station.gui.model import palette
from station.gui.model.readable import local_time, record_summary, verdict_colour, verdict_word
from station.gui.widgets.tables import read_only_table
from station.gui.workers.checker import RecordChecker
from station.records.entries import StoredRecord
from station.records.export import export_jsonl
from station.records.view import RecordView

log = logging.getLogger("station.gui")
COLUMNS = ("Seq", "Device id", "Mode", "Outcome", "Created (local time)", "Record id", "Links")
OUTCOME = COLUMNS.index("Outcome")


class RecordsView(QDialog):
    """Search, read and export manufacturing records; never blocks on the store."""

    shown = Signal(str, bool)  # record id, verified: a record has been displayed with its checks
    reprint_requested = Signal(str)  # record id

    def __init__(self, checker: RecordChecker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Records")
        self.resize(1100, 700)
        self.checker = checker
        self.records: list[StoredRecord] = []
        self.query: str | None = None
        self.current: str | None = None
        self.query_field = QLineEdit()
        self.query_field.setObjectName("records-query")
        self.query_field.setPlaceholderText("device id, genuine id or record id (empty: newest records)")
        self.query_field.returnPressed.connect(self._search_entered)
        find = QPushButton("Find")
        find.clicked.connect(self._search_entered)
        self.table = _results_table()
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.verdict = QLabel("Select a record to read it.")
        self.verdict.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw = QPushButton("Show raw JSON")  # the signed payload, for whoever needs every field
        self.raw.setObjectName("raw-json")
        self.raw.setCheckable(True)
        self.raw.toggled.connect(self._raw_toggled)
        self.view: RecordView | None = None
        self.export = QPushButton("Export selected…")
        self.export.clicked.connect(self._export_clicked)
        self.reprint = QPushButton("Reprint label")
        self.reprint.setObjectName("reprint")
        self.reprint.clicked.connect(self._reprint_clicked)
        self.allow_reprint(False)
        self.status = QLabel()
        self._build(find)
        checker.found.connect(self.show_found)
        checker.checked.connect(self.show_check)
        checker.failed.connect(self.show_failure)

    def _build(self, find: QPushButton) -> None:
        search = QHBoxLayout()
        search.addWidget(self.query_field, 1)
        search.addWidget(find)
        reading = QWidget()
        reading_layout = QVBoxLayout(reading)
        reading_layout.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        heading.addWidget(self.verdict, 1)
        heading.addWidget(self.raw)
        reading_layout.addLayout(heading)
        reading_layout.addWidget(self.text)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(reading)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.reprint)
        bottom.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.addLayout(search)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

    # --- searching -------------------------------------------------------------------------------------

    def search(self, text: str) -> None:
        self.query = text.strip()
        self.status.setText("Searching…")
        self.checker.search(self.query)

    def _search_entered(self) -> None:
        self.search(self.query_field.text())

    def show_found(self, query: str, records: list[StoredRecord], notes: dict[str, str]) -> None:
        if query != self.query:
            return  # an older search answered late
        self.records = records
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            outcome, created = verdict_word(record.outcome), local_time(record.created)
            cells = (str(record.seq), record.devid or "", record.mode, outcome, created)
            note = notes.get(record.record_id, "")
            for column, text in enumerate((*cells, record.record_id, note)):
                item = QTableWidgetItem(text)
                if note.startswith("SUPERSEDED"):
                    item.setForeground(QColor(palette.MUTED_TEXT))  # kept as history, no longer current
                elif column == OUTCOME:
                    item.setForeground(QColor(verdict_colour(record.outcome)))
                if column == COLUMNS.index("Created (local time)"):
                    item.setToolTip(record.created)  # the stored UTC time
                self.table.setItem(row, column, item)
        self.status.setText(_found_text(query, len(records)))

    # --- reading ---------------------------------------------------------------------------------------

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _selection_changed(self) -> None:
        rows = self._selected_rows()
        if not rows:
            return
        record = self.records[rows[-1]]
        self.current = record.record_id
        self.verdict.setText(f"Record {record.record_id}: verifying…")
        self.checker.check_stored(record)

    def show_check(self, record_id: str, view: RecordView) -> None:
        if record_id != self.current:
            return
        checks = view.checks
        mark = "Verified ✔" if checks.ok else "Verification FAILED ✖"
        parts = f"signature: {checks.signature}; chain: {checks.chain}; certificate: {checks.certificate}"
        self.verdict.setText(f"{mark} — {parts}{links_line(view)}")
        self.view = view
        self._show_text()
        self.shown.emit(record_id, checks.ok)

    def _raw_toggled(self, raw: bool) -> None:
        self.raw.setText("Show as sentences" if raw else "Show raw JSON")
        self._show_text()

    def _show_text(self) -> None:
        """The record in sentences, or (on demand) its signed payload as JSON and the checks' dump."""
        view = self.view
        if view is None:
            return
        if not self.raw.isChecked():
            self.text.setFont(_font(17))
            self.text.setPlainText(record_summary(view))
            return
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        stored = next((record for record in self.records if record.record_id == view.record_id), None)
        payload = json.dumps(dict(stored.payload), indent=2, ensure_ascii=False) if stored is not None else ""
        self.text.setPlainText(f"{format_view(view)}\n\n{payload}".strip())

    def show_failure(self, key: str, text: str) -> None:
        if key in (self.current, self.query):
            self.status.setText(text)

    # --- reprint ---------------------------------------------------------------------------------------

    def allow_reprint(self, allowed: bool, why_not: str = "") -> None:
        self.reprint.setEnabled(allowed)
        self.reprint.setToolTip("" if allowed else why_not)

    def _reprint_clicked(self) -> None:
        rows = self._selected_rows()
        if len(rows) != 1:
            self.status.setText("Select the one record whose label to reprint.")
            return
        record = self.records[rows[0]]
        self.status.setText(f"Reprinting the label of {record.devid or record.record_id}…")
        self.reprint_requested.emit(record.record_id)

    def show_reprint(self, record_id: str, text: str) -> None:
        self.status.setText(text)

    # --- export ----------------------------------------------------------------------------------------

    def _selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def export_selected(self, path: Path) -> int:
        """Write the selected records as JSON Lines to ``path``; returns how many."""
        chosen = [self.records[row] for row in self._selected_rows()]
        with path.open("w", encoding="utf-8") as out:
            count = export_jsonl(chosen, out)
        self.status.setText(f"Exported {count} record(s) to {path}")
        return count

    def _export_clicked(self) -> None:
        if not self._selected_rows():
            self.status.setText("Select the records to export first (Ctrl+A selects all).")
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export records", "records.jsonl", "JSON Lines (*.jsonl)")
        if not name:
            return
        try:
            self.export_selected(Path(name))
        except OSError as exc:
            log.warning("records export to %s failed: %s", name, exc)
            self.status.setText(f"Could not write {name}: {exc.strerror}. Choose another folder.")


def _font(pixels: int) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    return font


def _results_table() -> QTableWidget:
    table = read_only_table(COLUMNS)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return table


def _found_text(query: str, count: int) -> str:
    if not query:
        return f"{count} newest record(s)"
    if count == 0:
        return f"No record matches {query!r}: check the id, or search with an empty field for the newest."
    return f"{count} record(s) for {query!r}"


def links_line(view: RecordView) -> str:
    """The record's place in its unit's history, as a line under the verdict ("" when it has none)."""
    lines = []
    if view.superseded_by:
        lines.append(f"SUPERSEDED by record {view.superseded_by}: kept as history, no longer current.")
    if view.links.get("supersedes"):
        lines.append(f"RMA record: supersedes record {view.links['supersedes']}.")
    if view.links.get("verifies"):
        lines.append(f"QA record: checks record {view.links['verifies']}.")
    return "".join(f"\n{line}" for line in lines)
