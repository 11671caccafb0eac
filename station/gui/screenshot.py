"""``station gui --screenshot PNG``: render the window once the first units have finished, save, quit.

Example::

    shooter = Screenshot(session, Path("docs/operator-window.png"), after=8)
    shooter.saved.connect(app.exit)        # exit code 0 when the PNG is written, 1 if not

Waits on events, not on a timer: ``after`` RunFinished events (``station gui`` asks for a quarter of
the fixtures, so the picture shows finished units beside running ones), then opens
the detail panel of the slot that finished last (timeline, log, record) and waits for that record's
verification before grabbing the window, so the picture shows a verified record.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal

from station.events import RunFinished
from station.gui.session import Session
from station.records.view import RecordView

log = logging.getLogger("station.gui")


class Screenshot(QObject):
    saved = Signal(int)  # exit code: 0 written, 1 not written or the station stopped before the units

    def __init__(self, session: Session, path: Path, after: int) -> None:
        super().__init__(session)
        self.session = session
        self.path = path
        self.after = after
        self.finished: list[RunFinished] = []
        self.record_id: str | None = None
        self.taken = False
        session.bridge.run_finished.connect(self.run_finished)
        session.checker.checked.connect(self.record_checked)
        session.checker.failed.connect(self.record_failed)
        session.runner.stopped.connect(self.station_stopped)

    def run_finished(self, event: RunFinished) -> None:
        self.finished.append(event)
        if len(self.finished) != self.after:
            return
        last = self.finished[-1]  # its PASS is fresh on the tile, so the panel opens on this very unit
        self.record_id = last.record_id
        self.session.window.open_slot(last.slot)  # asks the checker to verify the record
        if self.record_id is None:
            self.capture()

    def record_checked(self, record_id: str, view: RecordView) -> None:
        if record_id == self.record_id:
            self.capture()

    def record_failed(self, record_id: str, text: str) -> None:
        if record_id == self.record_id:
            self.capture()

    def station_stopped(self, problem: str) -> None:
        """The station ended before the first units were done: save what the window shows, exit 1."""
        if not self.taken:
            self.capture(complete=False)

    def capture(self, *, complete: bool = True) -> None:
        if self.taken:
            return
        self.taken = True
        QCoreApplication.sendPostedEvents()  # let the last labels and layouts settle before the grab
        QCoreApplication.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ok = self.session.window.grab().save(str(self.path), "PNG")
        if ok:
            log.info("screenshot saved to %s", self.path)
        else:
            log.error("could not save the screenshot to %s", self.path)
        self.saved.emit(0 if ok and complete else 1)
