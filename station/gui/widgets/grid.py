"""The tiles laid out as the fixtures stand on the bench (``model/benchmap.py``): the arrangement is fixed for
the session, whatever the window's size or an open panel; arrow keys move the focus from tile to tile.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> grid = TileGrid(["A1", "A2", "B1"])
>>> (grid.bench.rows, grid.bench.columns), grid.neighbour("A1", 1, 0), grid.neighbour("A2", 1, 0)
((2, 2), 'B1', 'B1')
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QGridLayout, QWidget

from station.gui.model.benchmap import BenchMap, bench_map
from station.gui.widgets.tile import Tile

SPACING = 8


class TileGrid(QWidget):
    """Owns one ``Tile`` per slot, each at its place on the bench map."""

    def __init__(
        self,
        slots: list[str],
        parent: QWidget | None = None,
        *,
        readers: tuple[str, ...] = (),
        rows: int | None = None,
        columns: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.tiles = [Tile(slot, self, reader=slot in readers) for slot in slots]
        self._by_slot = {tile.slot: tile for tile in self.tiles}
        self.bench: BenchMap = bench_map(tuple(slots), rows, columns)
        self.columns = self.bench.columns
        layout = QGridLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(SPACING)
        for tile in self.tiles:
            row, column = self.bench.positions[tile.slot]
            layout.addWidget(tile, row, column)
        for column in range(self.bench.columns):
            layout.setColumnStretch(column, 1)
        for row in range(self.bench.rows):
            layout.setRowStretch(row, 1)
        for tile in self.tiles:
            tile.move_requested.connect(self.move_focus)

    def tile(self, slot: str) -> Tile:
        return self._by_slot[slot]

    def index_of(self, slot: str) -> int:
        return self.tiles.index(self._by_slot[slot])

    def find_slot(self, name: str) -> Tile | None:
        """The tile whose slot is called ``name`` (as typed: any case, spaces ignored), or None."""
        wanted = name.replace(" ", "").casefold()
        return next((tile for tile in self.tiles if tile.slot.casefold() == wanted), None)

    def neighbour(self, slot: str, rows: int, columns: int) -> str | None:
        """The nearest slot from ``slot`` in the direction (rows, columns): a step of -1, 0 or 1 each;
        gaps on the bench are skipped, and a short row is entered at its nearest tile."""
        row, column = self.bench.positions[slot]
        candidates = []
        for other, (r, c) in self.bench.positions.items():
            if rows == 0 and r == row and (c - column) * columns > 0:  # along the row
                candidates.append((abs(c - column), 0, other))
            elif rows != 0 and (r - row) * rows > 0:  # the nearest row that way, then the nearest column
                candidates.append((abs(r - row), abs(c - column), other))
        return min(candidates)[2] if candidates else None

    def move_focus(self, slot: str, rows: int, columns: int) -> None:
        target = self.neighbour(slot, rows, columns)
        if target is not None:
            self.tile(target).setFocus()


class SlotKey(QObject):
    """F<n> → focus slot n; a small object so the shortcut connects to a bound method, not a lambda."""

    pressed = Signal(int)

    def __init__(self, index: int, window: QWidget) -> None:
        super().__init__(window)
        self.index = index
        shortcut = QShortcut(QKeySequence(f"F{index + 1}"), window)
        shortcut.activated.connect(self._fire)

    def _fire(self) -> None:
        self.pressed.emit(self.index)
