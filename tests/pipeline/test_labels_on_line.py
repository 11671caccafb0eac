"""Labels on the line: a passing unit's label reaches the printer after its record is durable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from station.core.events import Event, LogLine
from tests.fakeprinter import Behaviour, FakePrinter
from tests.pipeline.conftest import LineFactory


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as running:
        yield running


def test_a_passing_unit_gets_its_label(line_factory: LineFactory, printer: FakePrinter) -> None:
    line = line_factory(label={"printer": f"tcp://{printer.address}"})
    logs: list[str] = []
    line.station.bus.subscribe(lambda e: logs.append(e.message) if isinstance(e, LogLine) else None)
    (verdict,) = line.run()
    (document,) = printer.wait_documents(1)
    payload = verdict.record.payload
    assert payload["unit"]["devid"].upper() in document
    assert f"PPA1:{payload['unit']['devid']}:{payload['record_id']}".upper() in document
    assert "label printed" in logs


def test_a_printer_that_is_down_never_costs_the_unit_its_pass(
    line_factory: LineFactory, printer: FakePrinter
) -> None:
    printer.behave(Behaviour.REFUSE)
    line = line_factory(label={"printer": f"tcp://{printer.address}", "timeout": 1})
    messages: list[Event] = []
    line.station.bus.subscribe(messages.append)
    (verdict,) = line.run()
    assert verdict.outcome == "pass"
    logs = [e.message for e in messages if isinstance(e, LogLine)]
    assert any("label not printed" in m and printer.address in m for m in logs), logs
    assert line.verify().ok
