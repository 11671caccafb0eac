"""Logins, mode changes, reprints and the audit log off the GUI thread, with results delivered as signals.

>>> import tempfile; from pathlib import Path; from station.app.demo import demo_config
>>> from station.gui.model.accounts import open_operator_session
>>> with tempfile.TemporaryDirectory() as folder:                       # a new station: no accounts yet
...     worker = AccessWorker(open_operator_session(demo_config(Path(folder), fixtures=1), Path(folder)), {})
...     worker.has_accounts(), worker.allowed("mode.production"); worker.shutdown()   # nobody logged in
(False, False)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PySide6.QtCore import QObject, Signal

from station.access.audit import read_audit
from station.access.auditverify import verify_audit_log
from station.access.pins import Pin
from station.access.session import OperatorSession
from station.core.errors import LoginRefused, PermissionDenied, StationError
from station.core.operator import Operator
from station.gui.model import modes
from station.gui.model.accounts import DemoAccounts, refusal_text
from station.labels.service import LabelService
from station.records.store import RecordStore

log = logging.getLogger("station.gui")
AUDIT_SHOWN = 1000  # newest entries listed; the whole log is verified
_REPRINT_STAGES = {  # LabelService.reprint's audit calls -> (stage, outcome) of a ``label-reprint`` entry
    "label.reprint": ("requested", "ok"),
    "label.reprint.printed": ("printed", "ok"),
    "label.reprint.failed": ("failed", "failed"),
}


class AccessWorker(QObject):
    """The operator session's calls in one background thread."""

    logged_in = Signal(object, object)  # Operator, the mode it starts in (str | None)
    login_refused = Signal(str)
    logged_out = Signal(object)  # the Operator who logged out
    mode_changed = Signal(str, object)  # mode, Operator
    mode_refused = Signal(str, str)  # mode, sentence
    reprinted = Signal(str, str)  # record id, sentence
    reprint_failed = Signal(str, str)
    audit_read = Signal(object, object)  # newest AuditEntry list, AuditReport over the whole log
    audit_refused = Signal(str)
    failed = Signal(str)  # an unexpected problem, as a sentence (details in the log)

    def __init__(
        self,
        session: OperatorSession,
        trusted_keys: Mapping[str, Ed25519PublicKey],
        *,
        demo: DemoAccounts | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.trusted_keys = trusted_keys
        self.demo = demo
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="access")

    @property
    def operator(self) -> Operator | None:
        return self.session.operator

    def allowed(self, action: str) -> bool:
        return self.session.allowed(action)

    def has_accounts(self) -> bool:
        """Read once at start (before the window shows), so it may read the database directly."""
        return bool(self.session.users.list())

    # --- requests (return at once) ----------------------------------------------------------------------

    def login(self, badge: str, pin: Pin, previous_mode: str | None = None) -> Future[None]:
        return self._submit(self._login, lambda: self.session.login(badge, pin), previous_mode)

    def demo_login(self, role: str, previous_mode: str | None = None) -> Future[None]:
        demo = self.demo
        if demo is None:
            raise StationError("demo logins exist only in the demo")
        return self._submit(self._login, lambda: demo.login(self.session, role), previous_mode)

    def logout(self) -> Future[None]:
        return self._submit(self._logout)

    def change_mode(self, mode: str) -> Future[None]:
        return self._submit(self._change_mode, mode)

    def reprint(self, record_id: str, labels: LabelService, store: RecordStore) -> Future[None]:
        return self._submit(self._reprint, record_id, labels, store)

    def read_audit(self) -> Future[None]:
        return self._submit(self._read_audit)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- the work (in the worker thread) -----------------------------------------------------------------

    def _submit(self, work: Callable[..., None], *args: Any) -> Future[None]:
        return self._pool.submit(self._guarded, work, *args)

    def _guarded(self, work: Callable[..., None], *args: Any) -> None:
        try:
            work(*args)
        except StationError as exc:
            log.warning("access: %s", exc)
            self.failed.emit(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        except Exception:
            log.exception("access: %s failed", getattr(work, "__name__", "a request"))
            self.failed.emit("The request failed because of an internal error; the details are in the log.")

    def _login(self, log_in: Callable[[], Operator], previous_mode: str | None) -> None:
        try:
            operator = log_in()
        except LoginRefused as exc:
            self.login_refused.emit(refusal_text(exc))
            return
        mode = modes.start_mode(operator.role, previous_mode)
        if mode is not None:
            self.session.change_mode(mode)  # audited: the login starts in this mode
        self.logged_in.emit(operator, mode)

    def _logout(self) -> None:
        operator = self.session.operator
        self.session.logout()
        self.logged_out.emit(operator)

    def _change_mode(self, mode: str) -> None:
        try:
            operator = self.session.change_mode(mode)
        except PermissionDenied:  # audited by the session
            self.mode_refused.emit(mode, modes.refusal(self.session.operator, mode))
            return
        self.mode_changed.emit(mode, operator)

    def _reprint(self, record_id: str, labels: LabelService, store: RecordStore) -> None:
        try:
            label = labels.reprint(record_id, store, audit=self._audit_reprint)
        except PermissionDenied:
            self.reprint_failed.emit(record_id, "Your role may not reprint labels; the refusal is audited.")
        except StationError as exc:
            self.reprint_failed.emit(record_id, f"The label was not reprinted: {exc}.")
        else:
            self.reprinted.emit(record_id, f"Label of {label.devid or record_id} sent to the printer again.")

    def _audit_reprint(self, action: str, detail: Mapping[str, str]) -> None:
        stage, outcome = _REPRINT_STAGES[action]
        self.session.perform("label-reprint", {**detail, "stage": stage}, outcome=outcome)

    def _read_audit(self) -> None:
        try:
            self.session.require("audit.view")
        except PermissionDenied:
            self.audit_refused.emit("Your role may not read the audit log; the refusal is audited.")
            return
        entries = read_audit(self.session.users.store)
        report = verify_audit_log(self.session.users.store, self.trusted_keys)  # the head file too
        self.audit_read.emit(entries[-AUDIT_SHOWN:], report)
