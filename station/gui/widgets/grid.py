"""The tiles in a grid that fills the window, from 4 to 32 slots; the columns follow the window's shape.

>>> columns_for(32, 1600, 900), columns_for(32, 900, 1600)     # as large a tile as the space allows
(8, 4)
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QGridLayout, QWidget

from station.gui.widgets.tile import Tile

TILE_ASPECT = 1.3  # width / height the tile's text lays out best in
SPACING = 8
NEAR_BEST = 0.85  # a layout with full rows may give up this much tile size


def columns_for(count: int, width: int, height: int, aspect: float = TILE_ASPECT) -> int:
    """Columns that give ``count`` tiles in ``width`` x ``height`` the largest tile of shape ``aspect``."""
    if count <= 1:
        return 1
    scales = {columns: _tile_scale(count, columns, width, height, aspect) for columns in range(1, count + 1)}
    best = max(scales.values())
    near = [columns for columns, scale in scales.items() if scale >= NEAR_BEST * best]
    # among nearly as large tiles, prefer full rows (A1..A8 over B1..B8, as the bench is laid out)
    return min(near, key=lambda columns: (-count % columns, -scales[columns]))


def _tile_scale(count: int, columns: int, width: int, height: int, aspect: float) -> float:
    """The height of the largest ``aspect``-shaped tile when ``count`` tiles sit in ``columns`` columns."""
    rows = math.ceil(count / columns)
    tile_w = (width - SPACING * (columns - 1)) / columns
    tile_h = (height - SPACING * (rows - 1)) / rows
    return min(tile_w / aspect, tile_h)


class TileGrid(QWidget):
    """Owns one ``Tile`` per slot, in configuration order."""

    def __init__(
        self, slots: list[str], parent: QWidget | None = None, *, readers: tuple[str, ...] = ()
    ) -> None:
        super().__init__(parent)
        self.tiles = [Tile(slot, self, reader=slot in readers) for slot in slots]
        self._by_slot = {tile.slot: tile for tile in self.tiles}
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        self._layout.setSpacing(SPACING)
        self.columns = 0
        self._arrange(columns_for(len(self.tiles), 1280, 720))

    def tile(self, slot: str) -> Tile:
        return self._by_slot[slot]

    def index_of(self, slot: str) -> int:
        return self.tiles.index(self._by_slot[slot])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        size = event.size()
        self._arrange(columns_for(len(self.tiles), size.width(), size.height()))

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        for tile in self.tiles:
            self._layout.removeWidget(tile)
        for old in range(max(self.columns, 1)):
            self._layout.setColumnStretch(old, 0)
        for old in range(self._layout.rowCount()):
            self._layout.setRowStretch(old, 0)
        self.columns = columns
        for index, tile in enumerate(self.tiles):
            self._layout.addWidget(tile, index // columns, index % columns)
        rows = math.ceil(len(self.tiles) / columns)
        for column in range(columns):
            self._layout.setColumnStretch(column, 1)
        for row in range(rows):
            self._layout.setRowStretch(row, 1)


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
