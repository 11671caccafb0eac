"""The login page: no unit starts before a login; wrong PINs and locks are said plainly; records name who.

Each test opens a demo station with accounts (``Gui.login_session``) and types into the login page as an
operator does. What is checked is what the operator sees (the page, the header, the tiles), what the
station writes (records naming the operator and role) and the audit log (logins, refusals, logouts).
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from station.access.audit import read_audit
from station.gui.workers.session import Session
from tests.gui.conftest import DEADLINE_MS, OPERATOR_PIN, Gui, log_in


def actions(session: Session) -> list[tuple[str | None, str, str]]:
    assert session.access is not None
    entries = read_audit(session.access.session.users.store)
    return [(entry.actor_id, entry.action, entry.outcome) for entry in entries]


def test_nothing_runs_before_a_login_then_the_records_name_the_operator_and_role(
    qtbot: QtBot, gui: Gui
) -> None:
    session = gui.login_session(gui.demo_opener(fixtures=2), units=2)
    session.start()
    window = session.window
    assert window.login_shown
    assert session.runner is None  # no station runs for nobody
    assert not window.header.mode.isEnabled() and not window.header.logout.isEnabled()

    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    assert not window.login_shown
    assert window.header.operator.text() == "Operator: B0042 (operator)"
    assert window.header.current_mode == "production"
    runner = session.runner
    assert runner is not None
    qtbot.waitUntil(lambda: not runner.running, timeout=DEADLINE_MS)  # the two units of this run are done
    station = session.station
    assert station is not None and station.operator.id == "B0042"
    records = list(station.store.records())
    assert len(records) == 2
    assert {(r.payload["operator"]["id"], r.payload["operator"]["role"]) for r in records} == {
        ("B0042", "operator")
    }
    assert ("B0042", "login", "ok") in actions(session)
    assert ("B0042", "mode-change", "ok") in actions(session)


def test_a_wrong_pin_says_so_with_the_attempts_left_and_nothing_starts(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=1)
    session.start()
    assert session.access is not None
    with qtbot.waitSignal(session.access.login_refused, timeout=DEADLINE_MS):
        log_in_wrong(qtbot, session, "B0042", "111333")
    error = session.window.login.error.text()
    assert error == "Wrong PIN for B0042 (4 attempts left before a lock)."
    assert session.window.login_shown and session.runner is None
    assert session.window.login.pin.text() == ""  # the PIN is never left in the field
    assert ("B0042", "login-failed", "failed") in actions(session)


def test_five_wrong_pins_lock_the_account_and_the_page_says_who_unlocks_it(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=1)
    session.start()
    assert session.access is not None
    for _ in range(5):
        with qtbot.waitSignal(session.access.login_refused, timeout=DEADLINE_MS):
            log_in_wrong(qtbot, session, "B0042", "111333")
    error = session.window.login.error.text()
    assert "B0042 is now locked for 15 minutes" in error
    assert "station users enable B0042" in error
    with qtbot.waitSignal(session.access.login_refused, timeout=DEADLINE_MS):
        log_in_wrong(qtbot, session, "B0042", OPERATOR_PIN)  # even the right PIN, while locked
    assert "B0042 is locked until" in session.window.login.error.text()
    assert session.runner is None


def test_an_unknown_badge_is_refused_without_naming_it(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=1)
    session.start()
    assert session.access is not None
    with qtbot.waitSignal(session.access.login_refused, timeout=DEADLINE_MS):
        log_in_wrong(qtbot, session, "X9999", OPERATOR_PIN)
    assert session.window.login.error.text().startswith("No account for this badge.")
    assert "X9999" not in session.window.login.error.text()


def test_a_station_without_accounts_tells_the_admin_how_to_create_the_first(gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=1, accounts={})
    session.start()
    login = session.window.login
    assert login.title.text() == "No operator accounts yet"
    assert "station users add BADGE --name NAME --role admin" in login.info.text()
    assert not login.badge.isEnabled() and not login.pin.isEnabled()
    assert session.runner is None


def test_logout_is_audited_and_the_login_page_returns_while_the_units_in_progress_finish(
    qtbot: QtBot, gui: Gui
) -> None:
    session = gui.login_session(gui.demo_opener(fixtures=2), units=None)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    assert session.access is not None
    with qtbot.waitSignal(session.host.idle, timeout=DEADLINE_MS):
        session.window.header.logout.click()
        assert session.window.login_shown
        assert "B0042 logged out" in session.window.login.info.text()
    assert session.station is None  # parked: nothing runs until the next login
    assert ("B0042", "logout", "ok") in actions(session)
    records = list(session.checker.store.records())
    assert all(record.outcome != "aborted" for record in records)  # the units in progress finished
    assert session.window.header.operator.text() == "Operator: nobody logged in"


def log_in_wrong(qtbot: QtBot, session: Session, badge: str, pin: str) -> None:
    from PySide6.QtCore import Qt

    login = session.window.login
    login.badge.clear()
    qtbot.keyClicks(login.badge, badge)
    qtbot.keyClicks(login.pin, pin)
    qtbot.keyClick(login.pin, Qt.Key.Key_Return)


def test_a_badge_scanned_while_someone_works_opens_the_login_for_a_takeover(qtbot: QtBot, gui: Gui) -> None:
    from PySide6.QtCore import Qt

    from tests.gui.conftest import ADMIN_PIN

    session = gui.login_session(gui.demo_opener(fixtures=1), units=None)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    window = session.window
    tile = window.grid.tiles[0]
    window.activateWindow()
    tile.setFocus()
    qtbot.waitUntil(tile.hasFocus)
    qtbot.keyClicks(tile, "A0001")  # the admin scans their badge at the bench
    qtbot.keyClick(window.header.scan, Qt.Key.Key_Return)
    assert window.login_shown
    assert window.login.badge.text() == "A0001" and window.login.pin.hasFocus()
    assert window.login.back.isVisible()  # B0042 may go back: nothing changed yet
    assert session.station is not None and session.station.operator.id == "B0042"

    qtbot.keyClicks(window.login.pin, ADMIN_PIN)
    with qtbot.waitSignal(session.host.attached, timeout=DEADLINE_MS):
        qtbot.keyClick(window.login.pin, Qt.Key.Key_Return)
    assert session.station is not None and session.station.operator.id == "A0001"
    assert window.header.operator.text() == "Operator: A0001 (admin)"
    assert window.header.current_mode == "production"  # the bench's mode is kept when the role allows it
    trail = [entry for entry in actions(session) if entry[1] in ("login", "logout")]
    # the new login is checked first; only then is the one it replaces logged out
    assert trail == [("B0042", "login", "ok"), ("A0001", "login", "ok"), ("B0042", "logout", "ok")]
