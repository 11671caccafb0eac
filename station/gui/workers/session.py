"""One window session: the login, the station behind the window (reopened per operator and mode), wired.

Without ``access`` nobody logs in: the station runs as opened (benches, tests).

>>> import inspect; list(inspect.signature(Session).parameters)
['station', 'units', 'parent', 'access', 'opener', 'demo_role', 'no_accounts']
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from station.access.pins import Pin
from station.app.station import Station
from station.core.operator import Operator
from station.gui.model import modes
from station.gui.model.opener import StationOpener
from station.gui.model.search import Trust
from station.gui.widgets.window import MainWindow, WindowSetup
from station.gui.workers.accessworker import AccessWorker
from station.gui.workers.bridge import EventBridge
from station.gui.workers.checker import RecordChecker
from station.gui.workers.host import StationHost, Target
from station.gui.workers.rmainputs import RmaInputs
from station.gui.workers.runner import StationRunner
from station.records import jws

log = logging.getLogger("station.gui")


class Session(QObject):
    def __init__(
        self,
        station: Station,
        units: int | None = None,
        parent: QObject | None = None,
        *,
        access: AccessWorker | None = None,
        opener: StationOpener | None = None,
        demo_role: str | None = None,
        no_accounts: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.access, self.demo_role, self.no_accounts = access, demo_role, no_accounts
        self.labels = station.labels
        self.checker = RecordChecker(station.store, _trust(station), self, labels=station.labels)
        self.window = MainWindow(WindowSetup.of(station), self.checker)
        self.host = StationHost(opener, units, self)
        self.rma = RmaInputs(self.window, self._station)
        self._closed = False
        self._connect()
        if access is None:
            self.host.attach(station)  # runs as opened: its operator, its mode
        else:
            self.host.station = station  # opened to check the configuration; replaced at the first login
            self._connect_access(access)
            if access.demo is not None:
                self.window.login.offer_demo(list(access.demo.badges))

    def _connect(self) -> None:
        window, host = self.window, self.host
        host.attached.connect(self._attached)
        host.ended.connect(window.station_stopped)
        host.failed.connect(self._open_failed)
        window.closing.connect(self.stop)
        window.reader_scanned.connect(self._reader_scanned)

    def _connect_access(self, access: AccessWorker) -> None:
        window = self.window
        window.login.login_requested.connect(self._login)
        window.login.demo_requested.connect(self._demo_login)
        window.login.back_requested.connect(window.show_station)
        window.badge_scanned.connect(self._badge_scanned)
        window.header.mode_requested.connect(access.change_mode)
        window.header.logout_requested.connect(self.logout)
        window.dialogs.reprint_requested.connect(self._reprint)
        window.dialogs.audit_refresh_requested.connect(access.read_audit)
        access.logged_in.connect(self._logged_in)
        access.login_refused.connect(window.login.show_refusal)
        access.mode_changed.connect(self._mode_changed)
        access.mode_refused.connect(self._mode_refused)
        access.reprinted.connect(window.dialogs.show_reprint)
        access.reprinted.connect(window.label_reprinted)  # its PASS stops asking for a reprint
        access.reprint_failed.connect(window.dialogs.show_reprint)
        access.audit_read.connect(window.dialogs.show_audit)
        access.audit_refused.connect(window.dialogs.show_audit_refusal)
        access.failed.connect(self._access_failed)

    @property
    def bridge(self) -> EventBridge | None:
        return self.host.bridge

    @property
    def runner(self) -> StationRunner | None:
        return self.host.runner

    @property
    def station(self) -> Station | None:
        return self.host.station

    def _station(self) -> Station | None:
        return self.host.station

    # --- start and end -----------------------------------------------------------------------------------

    def start(self, *, maximized: bool = False) -> None:
        if maximized:
            self.window.showMaximized()
        else:
            self.window.show()
        if self.access is None:
            self.host.start()
        elif self.no_accounts is not None:
            self.window.show_login()
            self.window.login.show_no_accounts(self.no_accounts)
        else:
            self.window.show_login()
            if self.demo_role is not None:
                self._demo_login(self.demo_role)

    def stop(self) -> None:
        """The window closes: no new unit waits for an answer; the station stops now (requests are cut)."""
        self.rma.close()
        if self.host.runner is not None:
            self.host.runner.stop()

    def shutdown(self) -> None:
        """Stop and wait for the station, log out (audited), then detach the GUI and release the fixtures."""
        if self._closed:
            return
        self._closed = True
        self.rma.close()
        self.host.shutdown()
        if self.access is not None:
            if self.access.operator is not None:
                self.access.logout()
            self.access.shutdown()
        self.checker.shutdown()
        self.window.close()

    # --- login, logout, modes ----------------------------------------------------------------------------

    def _login(self, badge: str, pin: Pin) -> None:
        assert self.access is not None
        self.access.login(badge, pin, self.window.header.current_mode)

    def _demo_login(self, role: str) -> None:
        assert self.access is not None
        self.window.login.checking()
        self.access.demo_login(role, self.window.header.current_mode)

    def _logged_in(self, operator: Operator, mode: str | None) -> None:
        window, access = self.window, self.access
        assert access is not None
        window.header.set_operator(
            operator, modes.allowed_modes(operator.role), can_audit=access.allowed("audit.view")
        )
        window.dialogs.set_reprint(self.labels is not None and access.allowed("label.reprint"))
        window.reset_counters()
        window.show_station()
        window.log_strip.note(f"{operator.id} ({operator.role}) logged in")
        if mode is not None:
            self._switch(mode, operator)

    def logout(self) -> None:
        """Log out (audited); the units in progress finish, nothing new starts until the next login."""
        assert self.access is not None
        operator = self.access.operator
        self.access.logout()
        self.rma.withdraw()
        self.host.park()
        self.window.header.set_operator(None, (), can_audit=False)
        self.window.header.show_mode(None)
        self.window.mode_bar.show_mode(None)
        self.window.dialogs.set_reprint(False)
        self.window.dialogs.close_audit()
        left = (
            f"{operator.id} logged out; units in progress finish and are recorded under them."
            if operator
            else ""
        )
        self.window.show_login(info=left)

    def _badge_scanned(self, badge: str) -> None:
        """A badge scanned while the station runs: someone takes over; they type their PIN (or go back)."""
        self.window.show_login(
            badge=badge, taking_over=self.access is not None and self.access.operator is not None
        )

    def _mode_changed(self, mode: str, operator: Operator) -> None:
        self._switch(mode, operator)

    def _mode_refused(self, mode: str, text: str) -> None:
        self.window.show_error(text)

    def _switch(self, mode: str, operator: Operator) -> None:
        self.rma.withdraw()
        self.window.header.set_switching(True)
        self.window.header.show_mode(mode)
        self.rma.reset()  # accepting unknown units is a decision for one RMA session only
        running = self.host.runner is not None and self.host.runner.running
        wait = " after the units in progress have finished" if running else ""
        self.window.banner.setText(f"Switching to {modes.TITLES[mode]}{wait}…")
        self.window.banner.show()
        self.host.switch(Target(mode, operator, self.rma.policy()))

    def _attached(self, station: Station, bridge: EventBridge) -> None:
        bridge.engine_event.connect(self.window.apply)
        bridge.engine_event.connect(self.rma.engine_event)
        header = self.window.header
        header.set_switching(False)
        if self.access is not None:
            header.show_mode(station.mode)
            self.window.mode_bar.show_mode(station.mode)
            self.window.clear_banner()
            self.window.log_strip.note(f"{modes.TITLES[station.mode]} mode, operator {station.operator.id}")

    def _access_failed(self, text: str) -> None:
        """The accounts database failed a request: say so, and let the login page be used again."""
        self.window.show_error(text)
        if self.window.login_shown:
            self.window.login.show_refusal(text)

    def _open_failed(self, text: str) -> None:
        self.window.header.set_switching(False)
        self.window.show_error(f"The station could not start: {text}. Fix this and log in again.")

    # --- RMA inputs, scans, reprints ---------------------------------------------------------------------

    def _reader_scanned(self, slot: str, code: str) -> None:
        station = self.host.station
        if station is not None:
            station.scans.put(slot, code)

    def _reprint(self, record_id: str) -> None:
        assert self.access is not None
        station = self.host.station
        labels = station.labels if station is not None and station.labels is not None else self.labels
        if labels is None:
            self.window.dialogs.show_reprint(
                record_id, "This station prints no labels ([label] is not configured)."
            )
            return
        self.access.reprint(record_id, labels, self.checker.store)


def _trust(station: Station) -> Trust:
    """The station's own signing key and its factory CA (read once, at start)."""
    keys = jws.trusted_keys_from([station.signing_public_key])
    try:
        ca = station.ca_certificate()
    except Exception as exc:  # a remote backend may be unreachable right now: verify without the CA
        log.warning("factory CA certificate unavailable, records are verified without it: %s", exc)
        ca = None
    return Trust(keys, ca)
