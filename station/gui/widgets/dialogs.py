"""The window's two side windows, made when first opened: the records view (Ctrl+R) and audit log (Ctrl+L).

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> dialogs = Dialogs(QWidget(), RecordChecker(store=None, trust=None))     # the records' worker, unused
>>> asked = []; _ = dialogs.audit_refresh_requested.connect(lambda: asked.append("entries"))
>>> dialogs.open_audit() is dialogs.open_audit(), asked      # made once, kept; each opening reads again
(True, ['entries', 'entries'])
>>> dialogs.close_all()
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from station.access.audit import AuditEntry
from station.access.auditverify import AuditReport
from station.gui.model.checks import CheckSource
from station.gui.widgets.auditview import AuditView
from station.gui.widgets.checkview import StationCheckView
from station.gui.widgets.records_view import RecordsView
from station.gui.workers.checker import RecordChecker

NO_REPRINT = "Log in with a role that may reprint labels (label.reprint)."


class Dialogs(QObject):
    reprint_requested = Signal(str)  # record id
    audit_refresh_requested = Signal()

    def __init__(self, window: QWidget, checker: RecordChecker) -> None:
        super().__init__(window)
        self.window = window
        self.checker = checker
        self.records: RecordsView | None = None
        self.audit: AuditView | None = None
        self.reprint: tuple[bool, str] = (False, NO_REPRINT)
        self.check_source: CheckSource | None = None  # the app passes ``station doctor``'s checks in
        self.station_check: StationCheckView | None = None

    def set_reprint(self, allowed: bool, why_not: str = NO_REPRINT) -> None:
        """Whether the records view's "Reprint label" is enabled (labels on, and the role may)."""
        self.reprint = (allowed, why_not)
        if self.records is not None:
            self.records.allow_reprint(allowed, why_not)

    def open_records(self) -> RecordsView:
        if self.records is None:
            self.records = RecordsView(self.checker, self.window)
            self.records.reprint_requested.connect(self.reprint_requested)
            self.records.allow_reprint(*self.reprint)
        records = self.records
        records.show()
        records.raise_()
        records.query_field.setFocus()
        records.search(records.query_field.text())
        return records

    def open_audit(self) -> AuditView:
        if self.audit is None:
            self.audit = AuditView(self.window)
            self.audit.refresh_requested.connect(self.audit_refresh_requested)
        audit = self.audit
        audit.show()
        audit.raise_()
        audit.refresh()
        return audit

    def open_station_check(self) -> StationCheckView:
        """The station check view; it runs the checks each time it is opened."""
        if self.station_check is None:
            self.station_check = StationCheckView(self.check_source, self.window)
        view = self.station_check
        view.source = self.check_source
        view.show()
        view.raise_()
        view.run()
        return view

    def check_at_start(self) -> None:
        """Run the station check once, quietly; its view opens only when a check fails."""
        if self.check_source is None:
            return
        if self.station_check is None:
            self.station_check = StationCheckView(self.check_source, self.window)
        self.station_check.source = self.check_source
        self.station_check.shown.connect(self._checked_at_start)
        self.station_check.run()

    def _checked_at_start(self, ok: bool) -> None:
        view = self.station_check
        if view is None:
            return
        view.shown.disconnect(self._checked_at_start)
        if not ok:
            view.show()
            view.raise_()

    def show_audit(self, entries: list[AuditEntry], report: AuditReport) -> None:
        if self.audit is not None:
            self.audit.show_entries(entries, report)

    def show_audit_refusal(self, text: str) -> None:
        if self.audit is not None:
            self.audit.show_refusal(text)

    def show_reprint(self, record_id: str, text: str) -> None:
        if self.records is not None:
            self.records.show_reprint(record_id, text)

    def close_audit(self) -> None:
        """After a logout: the next operator must not find the last one's view open."""
        if self.audit is not None:
            self.audit.close()

    def close_all(self) -> None:
        for dialog in (self.records, self.audit, self.station_check):
            if dialog is not None:
                dialog.close()  # else a dialog would keep the application open
