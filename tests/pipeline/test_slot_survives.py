"""A fault of the station itself (its records database destroyed mid-run) fails the unit visibly; the slot
worker survives, and nothing is reported as PASS that was not recorded."""

from __future__ import annotations

from pathlib import Path

from station.core.events import Event, RunStarted, SlotChanged, SlotState
from tests.pipeline.conftest import LineFactory


def destroy(database: Path) -> None:
    for leftover in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        leftover.unlink(missing_ok=True)
    database.write_bytes(b"this is not a database " * 200)


def test_a_broken_records_database_fails_the_unit_without_killing_the_slot(line_factory: LineFactory) -> None:
    line = line_factory()
    events: list[Event] = []

    def watch(event: Event) -> None:
        events.append(event)
        if isinstance(event, RunStarted):  # published by the worker, after the run was journalled
            destroy(line.data_dir / "records.sqlite3")

    line.station.bus.subscribe(watch)
    assert line.station.run(units=1) == []  # no verdict: nothing was recorded, so nothing may show PASS
    failed = [e for e in events if isinstance(e, SlotChanged) and e.state is SlotState.FAILED]
    assert len(failed) == 1
    assert "could not finish this unit (RecordError" in failed[0].message
    assert "call the line engineer" in failed[0].message
