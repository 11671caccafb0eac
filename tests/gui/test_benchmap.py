"""The bench map: tiles where the fixtures stand, from station.toml, the slot names or the count."""

from __future__ import annotations

import pytest

from station.core.config import parse
from station.core.errors import ConfigError
from station.gui.model.benchmap import bench_map


def document(**fixtures_table: int) -> dict[str, object]:
    slots = [{"slot": f"S{i}", "kind": "network", "url": f"http://127.0.0.1:{9000 + i}"} for i in range(1, 9)]
    return {"station": {"id": "st"}, "fixtures": fixtures_table, "fixture": slots}


def test_rows_and_columns_come_from_the_fixtures_table() -> None:
    config = parse(document(rows=2, columns=4))
    bench = config.fixture_hardware
    shape = bench_map(tuple(f.slot for f in config.fixtures), bench.rows, bench.columns)
    assert (shape.rows, shape.columns) == (2, 4)
    assert shape.positions["S5"] == (1, 0)  # filled in [[fixture]] order, row by row


@pytest.mark.parametrize(
    ("table", "key"), [({"rows": 0}, "fixtures.rows"), ({"rows": 2, "columns": 3}, "fixtures.rows")]
)
def test_a_bench_map_without_room_or_with_no_rows_is_refused(table: dict[str, int], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(document(**table))
    assert refused.value.key == key


def test_names_give_rows_by_letter_and_columns_by_number_with_gaps_kept() -> None:
    shape = bench_map(("A1", "A2", "A4", "B1"))
    assert (shape.rows, shape.columns) == (2, 4)
    assert shape.positions["A4"] == (0, 3) and shape.slot_at(0, 2) is None  # A3 is missing: a gap


def test_names_that_say_nothing_fall_back_on_the_count() -> None:
    assert bench_map(tuple(f"slot-{i}" for i in range(8)))[:2] == (2, 4)
    assert bench_map(("A1", "a1"))[:2] == (1, 2)  # two names on one place: configuration order
