"""The header's mode switch: guarded by role and audited; a switch lets the units in progress finish first.

An operator may run production only: asking for RMA is refused, said in the banner and written to the
audit log. An admin switching to QA gets a station reopened in QA: the next unit runs the QA flow (the
demo's units are new, so QA finds them never provisioned) and its record names the admin.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from station.access.audit import read_audit
from station.app.station import Station
from station.core.events import RunFinished, RunStarted
from station.gui.model.palette import TileState
from station.gui.workers.bridge import EventBridge
from station.gui.workers.session import Session
from tests.gui.conftest import ADMIN_PIN, DEADLINE_MS, OPERATOR_PIN, Gui, log_in

QA_STEPS = ("identify", "challenge", "attest", "record", "compare")


class Runs:
    """Every RunStarted and RunFinished of every station the session runs, in order."""

    def __init__(self, session: Session) -> None:
        self.started: list[RunStarted] = []
        self.finished: list[RunFinished] = []
        session.host.attached.connect(self.attached)

    def attached(self, station: Station, bridge: EventBridge) -> None:
        bridge.run_started.connect(self.started.append)
        bridge.run_finished.connect(self.finished.append)


def test_an_operator_cannot_switch_to_rma_and_the_refusal_is_audited(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(), units=None)
    session.start()
    log_in(qtbot, session, "B0042", OPERATOR_PIN)
    header = session.window.header
    assert not header.mode_enabled("rma") and not header.mode_enabled("qa")
    assert session.access is not None
    with qtbot.waitSignal(session.access.mode_refused, timeout=DEADLINE_MS) as refused:
        header.request_mode("rma")  # what a pick in the switch does
    assert refused.args[0] == "rma"
    banner = session.window.banner.text()
    assert "B0042 (operator) may not switch to RMA" in banner
    assert "an RMA engineer or an admin" in banner
    assert header.current_mode == "production"
    assert session.station is not None and session.station.mode == "production"
    entries = read_audit(session.access.session.users.store)
    refusal = [entry for entry in entries if entry.action == "permission-refused"]
    assert len(refusal) == 1
    assert (refusal[0].actor_id, refusal[0].actor_role, refusal[0].outcome) == (
        "B0042",
        "operator",
        "refused",
    )
    assert refusal[0].detail["action"] == "mode.rma"


def test_an_admin_switches_to_qa_and_the_next_unit_runs_the_qa_flow(qtbot: QtBot, gui: Gui) -> None:
    session = gui.login_session(gui.demo_opener(fixtures=2), units=None)
    runs = Runs(session)
    session.start()
    log_in(qtbot, session, "A0001", ADMIN_PIN)
    assert session.window.header.mode_enabled("qa") and session.window.header.mode_enabled("rma")
    qtbot.waitUntil(lambda: len(runs.started) >= 1, timeout=DEADLINE_MS)  # production is under way

    assert session.access is not None
    with qtbot.waitSignal(session.host.attached, timeout=DEADLINE_MS):
        with qtbot.waitSignal(session.access.mode_changed, timeout=DEADLINE_MS):
            session.window.header.request_mode("qa")
        assert "Switching to QA after the units in progress have finished" in session.window.banner.text()
    station = session.station
    assert station is not None and station.mode == "qa" and station.operator.id == "A0001"
    assert session.window.header.current_mode == "qa"
    assert session.window.mode_bar.isVisible() and "QA:" in session.window.mode_bar.guide.text()
    qtbot.waitUntil(lambda: any(run.mode == "qa" for run in runs.started), timeout=DEADLINE_MS)
    qa_run = next(run for run in runs.started if run.mode == "qa")
    assert runs.started[-1].mode == "qa"  # no production unit started after the switch
    assert qa_run.steps == QA_STEPS

    def qa_finished() -> RunFinished | None:
        return next((run for run in runs.finished if run.run_id == qa_run.run_id), None)

    qtbot.waitUntil(lambda: qa_finished() is not None, timeout=DEADLINE_MS)
    finished = qa_finished()
    assert finished is not None
    tile = session.window.grid.tile(finished.slot)
    qtbot.waitUntil(lambda: tile.view is not None and tile.view.state is TileState.FAIL)
    assert tile.texts()["word"] == "✖  FAIL"
    assert tile.texts()["slot"].endswith(" · QA")
    assert "never provisioned" in tile.texts()["reason"]
    assert tile.texts()["instruction"] == "Set aside for the line engineer."
    records = {record.record_id: record for record in station.store.records()}
    qa_record = records[str(finished.record_id)]
    assert qa_record.mode == "qa"
    assert qa_record.payload["operator"] == {"id": "A0001", "role": "admin"}
    assert all(record.outcome != "aborted" for record in records.values())  # production units finished
    changes = [e.detail for e in read_audit(session.access.session.users.store) if e.action == "mode-change"]
    assert {"from": "production", "to": "qa", "face": "gui"} in changes
