"""``station gui``: the login, then the station and its operator window; ``--demo`` on simulated fixtures.

>>> main(GuiOptions(demo=True, fixtures=40))        # ``station gui --demo --fixtures 40``
Traceback (most recent call last):
station.core.errors.StationError: --fixtures must be between 1 and 32
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from station import sim
from station.access.roles import ROLES
from station.app.demo import DEMO_FAMILIES, demo_config
from station.app.doctor.result import Environment
from station.app.doctor.run import run_checks
from station.core.config import LabelSection, StationConfig, load
from station.core.errors import StationError
from station.core.privatefiles import private_file
from station.core.text import EscapingFormatter
from station.gui.model.accounts import DemoAccounts, first_account_text, open_operator_session
from station.gui.model.opener import StationOpener
from station.gui.screenshot import VIEWS, Screenshot, login_role
from station.gui.widgets.window import MainWindow
from station.gui.workers.accessworker import AccessWorker
from station.gui.workers.session import Session
from station.gui.workers.signals import QuitOnSignals
from station.records import jws

log = logging.getLogger("station.gui")
SCREENSHOT_SIZE = (1600, 1000)


@dataclass(frozen=True)
class GuiOptions:
    config: Path | None = None
    demo: bool = False
    fixtures: int = 8
    screenshot: Path | None = None
    timing: str = "realistic"
    units: int | None = None  # None: until the window closes
    family: str = "ppa"  # the demo's devices: ppa | readers | mixed
    view: str = "window"  # what --screenshot shows (screenshot.VIEWS)


def main(options: GuiOptions) -> int:
    if options.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no display
    _check_options(options)
    _check_display()
    app = QApplication.instance() or QApplication([sys.argv[0], "-name", "ppa-station"])
    assert isinstance(app, QApplication)
    with ExitStack() as cleanup:
        try:
            session = _session(options, cleanup)
        except StationError as exc:
            if options.screenshot is None:
                QMessageBox.critical(None, "The station cannot start", f"{exc}\n\nFix this and start again.")
            raise
        if options.screenshot is not None:
            first_units = max(1, len(session.window.setup.slots) // 4)  # a few PASS among units still running
            shooter = Screenshot(session, options.screenshot, after=first_units, view=options.view)
            shooter.saved.connect(app.exit)
            session.window.resize(*SCREENSHOT_SIZE)
            session.start()
        else:
            session.start(maximized=True)
        quitter = QuitOnSignals(app)  # systemd's SIGTERM: stop the station, exit within seconds
        try:
            code = app.exec()
        finally:
            session.shutdown()
            quitter.deleteLater()
        return int(code)


def _check_options(options: GuiOptions) -> None:
    if options.view not in VIEWS:
        raise StationError(f"--screenshot-view must be one of {', '.join(VIEWS)}, not {options.view!r}")
    if options.family not in DEMO_FAMILIES:
        raise StationError(f"--family must be one of {', '.join(DEMO_FAMILIES)}, not {options.family!r}")
    if options.demo and not 1 <= options.fixtures <= 32:
        raise StationError("--fixtures must be between 1 and 32")


def _check_display() -> None:
    """Qt aborts the process when it finds no display; say what to do instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise StationError(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): start it from the "
            "station's desktop, or render a picture with --screenshot PNG"
        )


def _session(options: GuiOptions, cleanup: ExitStack) -> Session:
    """Open the station once (the configuration and keys are checked before the window shows)."""
    opener = _opener(options, cleanup)
    station = opener.open()
    cleanup.callback(station.close)  # idempotent: the session closes it at its first login
    data_dir = station.data_dir
    _log_to(data_dir / "gui.log", cleanup)
    operators = open_operator_session(opener.config, data_dir, environ=opener.environ)
    demo = DemoAccounts.create(operators.users) if options.demo else None
    worker = AccessWorker(operators, jws.trusted_keys_from([station.signing_public_key]), demo=demo)
    no_accounts = None if demo or worker.has_accounts() else first_account_text(opener.config, data_dir)
    session = Session(
        station,
        options.units,
        access=worker,
        opener=opener,
        demo_role=_demo_role(options) if demo else None,
        no_accounts=no_accounts,
    )
    _ErrorHook(session.window, data_dir / "gui.log").install(cleanup)
    if not options.demo and options.screenshot is None:
        _offer_station_check(session.window, Path(opener.config.path), opener.environ or os.environ)
    return session


def _offer_station_check(window: MainWindow, config_path: Path, environ: Mapping[str, str]) -> None:
    """``station doctor``'s checks behind the header's "Station check", run once at start-up: the view opens
    by itself when one fails, so a line PC that is not ready says why before the first unit."""
    window.set_station_check(lambda: run_checks(config_path, Environment(environ=dict(environ))))


def _opener(options: GuiOptions, cleanup: ExitStack) -> StationOpener:
    """The window is an entry point that allows simulation: the demo, a development station's config."""
    if not options.demo:
        config = load(options.config or Path("station.toml"))
        sim.install_for(config)  # its simulated fixtures (a production configuration refused them at load)
        return StationOpener(config, timing=options.timing)
    sim.install()
    data = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="station-gui-demo-")))
    config = demo_config(data, fixtures=options.fixtures, family=options.family)
    if config.fixtures and any(f.family == "ppa" for f in config.fixtures):
        config = _with_demo_printer(config, cleanup)
    return StationOpener(config, data_dir=data, timing=options.timing)


def _with_demo_printer(config: StationConfig, cleanup: ExitStack) -> StationConfig:
    """The demo prints its labels on a simulated printer (the preview shows them; reprints work)."""
    from station.sim.printer import SimulatedPrinter  # only the demo has one

    printer = SimulatedPrinter()
    cleanup.callback(printer.close)
    return dataclasses.replace(config, label=LabelSection(printer=printer.url, product="Encedo PPA"))


def _demo_role(options: GuiOptions) -> str | None:
    """The demo account the demo logs in by itself (None: the login page stays, for its screenshot)."""
    role = login_role(options.view) if options.screenshot is not None else "operator"
    assert role is None or role in ROLES
    return role


def _log_to(path: Path, cleanup: ExitStack) -> None:
    private_file(path, "window log")  # 0600 (it names units and operators); refused when others can read it
    handler = logging.FileHandler(path, encoding="utf-8")
    # escaped: a message may carry a unit's text (tracebacks keep their lines, each escaped)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("station")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    cleanup.callback(logger.removeHandler, handler)
    cleanup.callback(handler.close)


class _ErrorHook:
    """Exceptions escaping a Qt slot: the traceback to the log, one sentence to the window."""

    def __init__(self, window: MainWindow, log_path: Path) -> None:
        self.window = window
        self.log_path = log_path

    def install(self, cleanup: ExitStack) -> None:
        previous = sys.excepthook
        sys.excepthook = self
        cleanup.callback(setattr, sys, "excepthook", previous)

    def __call__(self, kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        log.error("unexpected error in the window", exc_info=(kind, value, trace))
        self.window.show_error(
            f"The window hit an unexpected problem ({kind.__name__}); the station keeps running. "
            f"Details are in {self.log_path}."
        )
