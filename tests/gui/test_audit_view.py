"""The audit log view (Ctrl+L): for roles with ``audit.view``; lists the entries, says if they verify."""

from __future__ import annotations

import re

from pytestqt.qtbot import QtBot

from station.access.audit import read_audit
from station.access.auditverify import AuditProblem, AuditReport
from station.gui.widgets.auditview import AuditView
from station.gui.workers.session import Session
from tests.gui.conftest import ADMIN_PIN, DEADLINE_MS, OPERATOR_PIN, Gui, log_in
from tests.gui.tables import cell_text


def cells(view: AuditView, column: int) -> list[str]:
    return [cell_text(view.table, row, column) for row in range(view.table.rowCount())]


def press_ctrl_l(qtbot: QtBot, session: Session) -> None:
    from PySide6.QtCore import Qt

    window = session.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def test_an_admin_reads_the_audit_log_verified(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=None)
    session.start()
    log_in(qtbot, session, "A0001", ADMIN_PIN)
    assert session.window.header.audit.isEnabled()
    press_ctrl_l(qtbot, session)
    view = session.window.dialogs.audit
    assert view is not None
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=DEADLINE_MS)  # read and verified in the worker
    actions = cells(view, 4)  # in words, local time, verdict marks: what an admin at the bench reads
    assert actions[:4] == ["account added"] * 4  # the accounts the test made (bootstrap admin first)
    assert actions[-2:] == ["logged in", "changed mode"]
    assert cells(view, 2)[-1] == "A0001"
    assert cells(view, 5)[-1] == "✔ OK"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells(view, 1)[-1])  # no T, no ms, no Z
    assert view.status.text().startswith("Verified ✔ — 6 entries")
    assert cells(view, 6)[-1].startswith("from none to production")
    view.raw.setChecked(True)  # the stored form, on demand
    assert cells(view, 4)[-1] == "mode-change"
    assert '"to": "production"' in cells(view, 6)[-1]


def test_an_operator_may_not_read_it_and_asking_anyway_is_audited(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=None)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    assert not session.window.header.audit.isEnabled()
    press_ctrl_l(qtbot, session)
    assert session.window.dialogs.audit is None  # the key does nothing for this role
    access = session.access
    assert access is not None
    with qtbot.waitSignal(access.audit_refused, timeout=DEADLINE_MS) as refused:
        access.read_audit()  # as a view left open by someone else would ask
    assert "may not read the audit log" in refused.args[0]
    last = read_audit(access.session.users.store)[-1]
    assert (last.actor_id, last.action, last.outcome) == ("B0042", "permission-refused", "refused")
    assert last.detail["action"] == "audit.view"


def test_a_broken_log_is_shown_broken_at_its_first_bad_entry(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=None)
    assert session.access is not None
    entries = read_audit(session.access.session.users.store)
    report = AuditReport(len(entries), entries[-1].seq, (AuditProblem(2, "signature does not verify"),))
    view = AuditView()
    qtbot.addWidget(view)
    view.show_entries(entries, report)
    assert view.status.text().startswith("Broken at entry 2 ✖ — signature does not verify.")
    assert cells(view, 0)[1] == "✖ 2"
