"""``station gui --screenshot PNG [--screenshot-view VIEW]``: render one view of the demo, save it, quit.

>>> VIEWS
('window', 'login', 'records', 'audit', 'qa', 'rma')
>>> login_role("audit"), login_role("login")          # the demo account each view is taken with
('admin', None)
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from station.app.station import Station
from station.core.events import Outcome, RunFinished
from station.gui.workers.bridge import EventBridge
from station.gui.workers.session import Session
from station.labels.service import Label
from station.records.entries import StoredRecord
from station.records.view import RecordView

log = logging.getLogger("station.gui")
VIEWS = ("window", "login", "records", "audit", "qa", "rma")
_ROLES = {
    "window": "operator",
    "login": None,
    "records": "operator",
    "audit": "admin",
    "qa": "qa",
    "rma": "rma",
}


def login_role(view: str) -> str | None:
    """The demo account a view is taken with (None: nobody logs in)."""
    return _ROLES[view]


class Screenshot(QObject):
    saved = Signal(int)  # exit code: 0 written, 1 not written or the station stopped before the units

    def __init__(self, session: Session, path: Path, after: int, view: str = "window") -> None:
        super().__init__(session)
        self.session, self.path, self.after, self.view = session, path, after, view
        self.finished: list[RunFinished] = []
        self.record_id: str | None = None
        self.waiting: set[str] = set()  # what the picture still waits for: "record", "label"
        self.taken = False
        checker = session.checker
        checker.checked.connect(self.record_checked)
        checker.failed.connect(self.record_failed)
        checker.labelled.connect(self.label_shown)
        session.host.attached.connect(self.attached)
        session.host.ended.connect(self.station_stopped)
        if view == "login":
            QTimer.singleShot(0, self.capture)  # the first turn of the event loop: the page is shown

    def attached(self, station: Station, bridge: EventBridge) -> None:
        bridge.run_finished.connect(self.run_finished)
        if self.view == "rma":
            self.session.window.mode_bar.accept_unknown.setChecked(True)

    def run_finished(self, event: RunFinished) -> None:
        self.finished.append(event)
        if len(self.finished) != self.after:
            return
        last = self.finished[-1]  # its verdict is fresh on the tile, so the panel opens on this very unit
        self.record_id = last.record_id
        window = self.session.window
        if self.view == "records":
            window.open_records()  # its search answers later (queued): after the view fills its table
            self.session.checker.found.connect(self.records_found)
        elif self.view == "audit":
            audit = window.dialogs.open_audit()
            audit.shown.connect(self.audit_shown)
        else:
            self.waiting = {"record"} if last.record_id else set()
            if window.detail.labels_enabled and last.outcome is Outcome.PASS and last.record_id:
                self.waiting.add("label")
            window.open_slot(last.slot)  # asks the checker to verify the record (and make the label)
            self._maybe_capture()

    def record_checked(self, record_id: str, view: RecordView) -> None:
        if record_id == self.record_id:
            self.waiting.discard("record")
            self._maybe_capture()

    def record_failed(self, record_id: str, text: str) -> None:
        if record_id == self.record_id:
            self.waiting.discard("record")
            self._maybe_capture()

    def label_shown(self, record_id: str, label: Label | None) -> None:
        if record_id == self.record_id:
            self.waiting.discard("label")
            self._maybe_capture()

    def records_found(self, query: str, records: list[StoredRecord], notes: dict[str, str]) -> None:
        view = self.session.window.dialogs.records
        if self.view != "records" or view is None or not records or self.taken:
            return
        view.shown.connect(self.record_shown)
        ids = [record.record_id for record in records]
        view.select_row(ids.index(self.record_id) if self.record_id in ids else len(ids) - 1)

    def record_shown(self, record_id: str, verified: bool) -> None:
        self.capture()

    def audit_shown(self, verified: bool) -> None:
        self.capture()

    def station_stopped(self, problem: str) -> None:
        """The station ended before the first units were done: save what the window shows, exit 1."""
        if not self.taken:
            self.capture(complete=False)

    def _maybe_capture(self) -> None:
        """The window views: once the slot's panel has what it waits for (the side windows say so)."""
        if self.view not in ("records", "audit") and not self.waiting and len(self.finished) >= self.after:
            self.capture()

    def capture(self, *, complete: bool = True) -> None:
        if self.taken:
            return
        self.taken = True
        QCoreApplication.sendPostedEvents()  # let the last labels and layouts settle before the grab
        QCoreApplication.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ok = self._shown_widget().grab().save(str(self.path), "PNG")
        if ok:
            log.info("screenshot saved to %s", self.path)
        else:
            log.error("could not save the screenshot to %s", self.path)
        self.saved.emit(0 if ok and complete else 1)

    def _shown_widget(self) -> QWidget:
        dialogs = self.session.window.dialogs
        if self.view == "records" and dialogs.records is not None:
            return dialogs.records
        if self.view == "audit" and dialogs.audit is not None:
            return dialogs.audit
        return self.session.window
