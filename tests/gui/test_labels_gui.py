"""Labels in the window: a passing unit's panel previews its label; the records view reprints it, audited.

The station prints on the tests' fake ZPL printer (127.0.0.1), so the test sees exactly what was sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.access.audit import read_audit
from station.core.config import LabelSection
from station.gui.workers.session import Session
from tests.fakeprinter import FakePrinter
from tests.gui.conftest import DEADLINE_MS, OPERATOR_PIN, Gui, log_in


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def passed(qtbot: QtBot, gui: Gui, printer: FakePrinter) -> Session:
    """An operator's session that has provisioned one unit, its label printed on the fake printer."""
    label = LabelSection(printer=f"tcp://127.0.0.1:{printer.port}")
    session = gui.login_session(gui.demo_opener(fixtures=1, label=label), units=1)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    runner = session.runner
    assert runner is not None
    qtbot.waitUntil(lambda: not runner.running, timeout=DEADLINE_MS)
    printer.wait_documents(1)
    return session


def test_the_panel_of_a_passing_unit_previews_its_label(
    qtbot: QtBot, passed: Session, printer: FakePrinter
) -> None:
    window = passed.window
    (record,) = passed.checker.store.records()
    qtbot.mouseClick(window.grid.tile("A1"), Qt.MouseButton.LeftButton)
    preview = window.detail.preview
    qtbot.waitUntil(preview.isVisible, timeout=DEADLINE_MS)
    assert preview.label is not None and preview.label.record_id == record.record_id
    assert preview.label.zpl == printer.documents[0]  # the preview draws what was printed
    assert record.devid is not None and record.devid in preview.accessibleDescription()


def test_reprint_from_the_records_view_sends_the_label_again_and_is_audited(
    qtbot: QtBot, passed: Session, printer: FakePrinter
) -> None:
    window = passed.window
    (record,) = passed.checker.store.records()
    records = window.dialogs.open_records()
    qtbot.waitUntil(lambda: records.table.rowCount() == 1, timeout=DEADLINE_MS)
    assert records.reprint.isEnabled()  # the operator's role may reprint, and labels are configured
    records.select_row(0)
    assert passed.access is not None
    with qtbot.waitSignal(passed.access.reprinted, timeout=DEADLINE_MS):
        qtbot.mouseClick(records.reprint, Qt.MouseButton.LeftButton)
    assert printer.wait_documents(2)[1] == printer.documents[0]
    assert records.status.text().startswith(f"Label of {record.devid} sent to the printer again")
    reprints = [e for e in read_audit(passed.access.session.users.store) if e.action == "label-reprint"]
    assert [(e.actor_id, e.detail["stage"], e.outcome) for e in reprints] == [
        ("B0042", "requested", "ok"),
        ("B0042", "printed", "ok"),
    ]
    assert reprints[0].detail["record_id"] == record.record_id


def test_a_failed_reprint_says_why_and_is_audited_as_failed(
    qtbot: QtBot, passed: Session, printer: FakePrinter
) -> None:
    from tests.fakeprinter import Behaviour

    printer.behave(Behaviour.REFUSE)
    records = passed.window.dialogs.open_records()
    qtbot.waitUntil(lambda: records.table.rowCount() == 1, timeout=DEADLINE_MS)
    records.select_row(0)
    assert passed.access is not None
    with qtbot.waitSignal(passed.access.reprint_failed, timeout=DEADLINE_MS):
        qtbot.mouseClick(records.reprint, Qt.MouseButton.LeftButton)
    assert "The label was not reprinted: printer 127.0.0.1" in records.status.text()
    assert "refused the connection" in records.status.text()
    last = read_audit(passed.access.session.users.store)[-1]
    assert (last.action, last.outcome, last.detail["stage"]) == ("label-reprint", "failed", "failed")
