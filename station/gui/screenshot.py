"""``station gui --screenshot PNG``: render the window once the first units have finished, save, quit.

Example::

    shooter = Screenshot(session, Path("docs/operator-window.png"), after=8)
    shooter.saved.connect(app.exit)        # exit code 0 when the PNG is written, 1 if not

Waits on events, not on a timer: ``after`` RunFinished events (one per fixture by default), then opens
the detail panel of the first slot that finished (timeline, log, record) and waits for that record's
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
    saved = Signal(int)  # exit code: 0 written, 1 could not be written

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

    def run_finished(self, event: RunFinished) -> None:
        self.finished.append(event)
        if len(self.finished) != self.after:
            return
        first = self.finished[0]
        self.record_id = first.record_id
        self.session.window.open_slot(first.slot)  # asks the checker to verify the record
        if self.record_id is None:
            self.capture()

    def record_checked(self, record_id: str, view: RecordView) -> None:
        if record_id == self.record_id:
            self.capture()

    def record_failed(self, record_id: str, text: str) -> None:
        if record_id == self.record_id:
            self.capture()

    def capture(self) -> None:
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
        self.saved.emit(0 if ok else 1)
