"""The read-only table both the step timeline and the records list use: columns sized to their content.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> table = read_only_table(("Step", "Outcome", "Message"))      # the last column stretches
>>> table.columnCount(), table.verticalHeader().isVisible()
(3, False)
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


def read_only_table(columns: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    for column in range(len(columns) - 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table
