"""Record look-ups and verification off the GUI thread, with results delivered as signals.

>>> from types import SimpleNamespace; from PySide6.QtWidgets import QApplication
>>> app = QApplication.instance() or QApplication([])
>>> checker = RecordChecker(SimpleNamespace(get=lambda record_id: None), Trust({}, None))  # an empty store
>>> failed = []; _ = checker.failed.connect(lambda key, text: failed.append(text))   # to the GUI thread
>>> checker.check("5f0c1d2e").result(); app.processEvents(); checker.shutdown(); failed
['Record 5f0c1d2e is not in the record store.']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from station.core.errors import LabelRefused, StationError
from station.gui.model.search import Trust, check_record, find_records, record_notes
from station.labels.service import LabelService
from station.records.entries import StoredRecord
from station.records.store import RecordStore

log = logging.getLogger("station.gui")


class RecordChecker(QObject):
    """Background record work: ``check`` one record by id, ``search`` by any id."""

    checked = Signal(str, object)  # record_id, RecordView
    failed = Signal(str, str)  # record_id or query, text for the operator
    found = Signal(str, object, object)  # query, list[StoredRecord], {record_id: links note}
    labelled = Signal(str, object)  # record_id, Label (None: this record gets no label)

    def __init__(
        self,
        store: RecordStore,
        trust: Trust,
        parent: QObject | None = None,
        *,
        labels: LabelService | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.trust = trust
        self.labels = labels  # None: labels are off at this station
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")

    def check(self, record_id: str) -> Future[None]:
        return self._submit(self._check, record_id)

    def check_stored(self, record: StoredRecord) -> Future[None]:
        return self._submit(self._check_stored, record)

    def search(self, text: str) -> Future[None]:
        return self._submit(self._search, text)

    def label(self, record_id: str) -> Future[None]:
        return self._submit(self._label, record_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, work: Callable[[Any], None], arg: str | StoredRecord) -> Future[None]:
        return self._pool.submit(self._guarded, work, arg)

    def _guarded(self, work: Callable[[Any], None], arg: str | StoredRecord) -> None:
        key = arg.record_id if isinstance(arg, StoredRecord) else str(arg)
        try:
            work(arg)
        except StationError as exc:
            log.warning("records: %s", exc)
            self.failed.emit(key, f"The record store could not be read: {exc}")
        except Exception:
            log.exception("records: checking %s failed", key)
            self.failed.emit(key, "Checking the record failed because of an internal error; see the log.")

    def _check(self, record_id: str) -> None:
        stored = self.store.get(record_id)
        if stored is None:
            self.failed.emit(record_id, f"Record {record_id} is not in the record store.")
            return
        self._check_stored(stored)

    def _check_stored(self, record: StoredRecord) -> None:
        self.checked.emit(record.record_id, check_record(self.store, record, self.trust))

    def _search(self, text: str) -> None:
        records = find_records(self.store, text)
        self.found.emit(text, records, record_notes(self.store, records))

    def _label(self, record_id: str) -> None:
        stored = self.store.get(record_id)
        if self.labels is None or stored is None:
            self.labelled.emit(record_id, None)
            return
        try:
            self.labelled.emit(record_id, self.labels.for_record(stored))
        except LabelRefused:  # a failed unit's record, a QA record: no label
            self.labelled.emit(record_id, None)
