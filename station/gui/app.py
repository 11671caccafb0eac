"""``station gui``: open the station and its operator window; ``--demo`` on simulated fixtures.

Example::

    main(GuiOptions(config=Path("station.toml")))                     # the configured station
    main(GuiOptions(demo=True, fixtures=8))                           # ``make gui``
    main(GuiOptions(demo=True, screenshot=Path("docs/operator-window.png")))   # render, save, exit 0

The demo station lives in a temporary data directory (removed at exit), uses the ``realistic`` timing
profile and keeps feeding fresh units until the window closes. Errors the operator can act on reach the
window as sentences; tracebacks go to ``<data_dir>/gui.log`` (and stderr), never to the screen.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from station.config import load
from station.demo import demo_config
from station.errors import StationError
from station.gui.screenshot import Screenshot
from station.gui.session import Session
from station.gui.window import MainWindow
from station.station import Station

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


def main(options: GuiOptions) -> int:
    if options.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no display
    _check_display()
    app = QApplication.instance() or QApplication([sys.argv[0], "-name", "ppa-station"])
    assert isinstance(app, QApplication)
    with ExitStack() as cleanup:
        try:
            station = _open(options, cleanup)
        except StationError as exc:
            if options.screenshot is None:
                QMessageBox.critical(None, "The station cannot start", f"{exc}\n\nFix this and start again.")
            raise
        _log_to(station.data_dir / "gui.log", cleanup)
        session = Session(station, options.units)
        _ErrorHook(session.window, station.data_dir / "gui.log").install(cleanup)
        if options.screenshot is not None:
            first_units = max(1, len(station.fixtures) // 4)  # a few PASS among units still running
            shooter = Screenshot(session, options.screenshot, after=first_units)
            shooter.saved.connect(app.exit)
            session.window.resize(*SCREENSHOT_SIZE)
            session.start()
        else:
            session.start(maximized=True)
        try:
            code = app.exec()
        finally:
            session.shutdown()
        return int(code)


def _check_display() -> None:
    """Qt aborts the process when it finds no display; say what to do instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise StationError(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): start it from the "
            "station's desktop, or render a picture with --screenshot PNG"
        )


def _open(options: GuiOptions, cleanup: ExitStack) -> Station:
    if options.demo:
        if not 1 <= options.fixtures <= 32:
            raise StationError("--fixtures must be between 1 and 32")
        data = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="station-gui-demo-")))
        config = demo_config(data, fixtures=options.fixtures)
        return Station.open(config, data_dir=data, timing=options.timing)
    return Station.open(load(options.config or Path("station.toml")))


def _log_to(path: Path, cleanup: ExitStack) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
        details = "".join(traceback.format_exception(kind, value, trace))
        log.error("unexpected error in the window:\n%s", details)
        self.window.show_error(
            f"The window hit an unexpected problem ({kind.__name__}); the station keeps running. "
            f"Details are in {self.log_path}."
        )
