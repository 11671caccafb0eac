"""Where each slot's tile sits: the fixtures' arrangement on the bench, fixed for the session.

``[fixtures] rows / columns`` when given, else the slot names (A1..A8 a row, B1.. the next), else the count.

>>> bench_map(("A1", "A2", "B1", "B2", "B3"))                 # rows by letter, columns by number
BenchMap(rows=2, columns=3, positions={'A1': (0, 0), 'A2': (0, 1), 'B1': (1, 0), 'B2': (1, 1), 'B3': (1, 2)})
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

MAX_COLUMNS = 16  # a slot number beyond this is a name, not a position
_NAMED = re.compile(r"^([A-Za-z]+)(\d+)$")


class BenchMap(NamedTuple):
    rows: int
    columns: int
    positions: dict[str, tuple[int, int]]  # slot -> (row, column)

    def slot_at(self, row: int, column: int) -> str | None:
        return next((slot for slot, place in self.positions.items() if place == (row, column)), None)


def bench_map(slots: tuple[str, ...], rows: int | None = None, columns: int | None = None) -> BenchMap:
    """The arrangement of ``slots``: configured, else from their names, else from their count."""
    if rows or columns:
        return _in_order(slots, rows, columns)
    named = _from_names(slots)
    return named if named is not None else _in_order(slots, None, _columns_for(len(slots)))


def _in_order(slots: tuple[str, ...], rows: int | None, columns: int | None) -> BenchMap:
    count = max(1, len(slots))
    columns = columns or math.ceil(count / (rows or 1))
    rows = max(rows or 0, math.ceil(count / columns))
    positions = {slot: divmod(index, columns) for index, slot in enumerate(slots)}
    return BenchMap(rows, columns, positions)


def _from_names(slots: tuple[str, ...]) -> BenchMap | None:
    """Rows by letter prefix (in order of first appearance), columns by number; None if names do not say."""
    matches = [_NAMED.match(slot) for slot in slots]
    if not slots or any(match is None for match in matches):
        return None
    letters: list[str] = []
    positions: dict[str, tuple[int, int]] = {}
    for slot, match in zip(slots, matches, strict=True):
        assert match is not None
        prefix, number = match.group(1).upper(), int(match.group(2))
        if not 1 <= number <= MAX_COLUMNS:
            return None
        if prefix not in letters:
            letters.append(prefix)
        positions[slot] = (letters.index(prefix), number - 1)
    if len(set(positions.values())) != len(positions):
        return None  # two names on one place (A1 and a1): fall back on the order
    columns = max(column for _, column in positions.values()) + 1
    return BenchMap(len(letters), columns, positions)


def _columns_for(count: int) -> int:
    """Near-square, a little wider than tall (screens are), for slots whose names give no arrangement."""
    return max(1, math.ceil(math.sqrt(count * 1.6)))
