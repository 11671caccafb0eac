"""The records view (Ctrl+R) finds records by device, genuine or record id, verifies one, exports some."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.app.station import Station
from station.gui.model.search import Trust
from station.gui.widgets.records_view import RecordsView
from station.gui.workers.checker import RecordChecker
from station.records import jws
from station.records.entries import StoredRecord
from tests.gui.conftest import DEADLINE_MS, Gui
from tests.gui.tables import cell_text


@pytest.fixture
def provisioned(gui: Gui) -> tuple[Station, list[StoredRecord]]:
    """A demo station that has provisioned two units (headless), and their records."""
    station = gui.station(fixtures=1)
    verdicts = station.run(units=2)
    return station, [verdict.record for verdict in verdicts]


@pytest.fixture
def view(qtbot: QtBot, provisioned: tuple[Station, list[StoredRecord]]) -> Iterator[RecordsView]:
    station, _ = provisioned
    trust = Trust(jws.trusted_keys_from([station.signing_public_key]), station.ca_certificate())
    checker = RecordChecker(station.store, trust)
    dialog = RecordsView(checker)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    checker.shutdown()


def search(qtbot: QtBot, view: RecordsView, text: str) -> list[str]:
    with qtbot.waitSignal(view.checker.found, timeout=DEADLINE_MS):
        view.search(text)
    return [cell_text(view.table, row, 5) for row in range(view.table.rowCount())]


def test_search_by_device_genuine_and_record_id(
    qtbot: QtBot, view: RecordsView, provisioned: tuple[Station, list[StoredRecord]]
) -> None:
    _, (first, second) = provisioned
    assert first.devid is not None and first.genuine_id is not None
    assert search(qtbot, view, first.devid) == [first.record_id]
    assert search(qtbot, view, first.genuine_id) == [first.record_id]
    assert search(qtbot, view, second.record_id) == [second.record_id]
    assert search(qtbot, view, "") == [first.record_id, second.record_id]  # the newest records
    assert search(qtbot, view, "ffffffffffffffff") == []
    assert "No record matches" in view.status.text()


def test_a_selected_record_is_shown_decoded_and_verified(
    qtbot: QtBot, view: RecordsView, provisioned: tuple[Station, list[StoredRecord]]
) -> None:
    _, (first, _) = provisioned
    assert first.devid is not None
    search(qtbot, view, first.devid)
    with qtbot.waitSignal(view.shown, timeout=DEADLINE_MS) as shown:
        view.select_row(0)
    assert shown.args == [first.record_id, True]
    assert view.verdict.text().startswith("Verified ✔")
    assert "issued by the factory CA" in view.verdict.text()
    text = view.text.toPlainText()  # sentences first, in local time
    assert text.startswith(f"✔ PASS — production run of unit {first.devid}")
    assert "(local time)" in text and "Steps:" in text
    assert cell_text(view.table, 0, 3) == "✔ PASS"
    view.raw.setChecked(True)  # the record as stored, on demand
    text = view.text.toPlainText()
    assert f"record {first.record_id}" in text
    assert "outcome PASS" in text
    assert f'"devid": "{first.devid}"' in text


def test_export_writes_the_selected_records_as_json_lines(
    qtbot: QtBot, view: RecordsView, provisioned: tuple[Station, list[StoredRecord]], tmp_path: Path
) -> None:
    station, records = provisioned
    search(qtbot, view, "")
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    out = tmp_path / "export.jsonl"
    assert view.export_selected(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["record_id"] for line in lines] == [record.record_id for record in records]
    for line in lines:  # each line carries its evidence: the signed JWS verifies with the station's key
        assert jws.verify(line["jws"], station.signing_public_key)["record_id"] == line["record_id"]
    assert "Exported 2" in view.status.text()
