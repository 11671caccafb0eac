"""An error in the window reaches the operator as a sentence; the traceback goes to the log file only."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from station.app.demo import demo_config
from station.core.errors import ConfigError
from station.gui.app import _ErrorHook, _log_to
from station.gui.model.search import Trust
from station.gui.widgets.window import MainWindow, WindowSetup
from station.gui.workers.checker import RecordChecker
from station.records.store.sqlite import SqliteStore


class Broken(QObject):
    poke = Signal()

    def explode(self) -> None:
        raise ValueError("a bug in a slot")


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    checker = RecordChecker(SqliteStore(tmp_path / "records.sqlite3"), Trust({}, None))
    shown = MainWindow(WindowSetup.of_config(demo_config(tmp_path / "data", fixtures=4), "default"), checker)
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    checker.shutdown()


def test_an_exception_in_a_slot_becomes_a_banner_sentence_and_a_logged_traceback(
    window: MainWindow, tmp_path: Path
) -> None:
    log_file = tmp_path / "gui.log"
    broken = Broken()
    broken.poke.connect(broken.explode)
    with ExitStack() as cleanup:
        _log_to(log_file, cleanup)
        _ErrorHook(window, log_file).install(cleanup)
        broken.poke.emit()
    text = window.banner.text()
    assert window.banner.isVisible()
    assert "unexpected problem (ValueError)" in text
    assert "the station keeps running" in text
    assert str(log_file) in text
    assert "Traceback" not in text
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "a bug in a slot" in logged


def test_the_window_log_is_made_for_its_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    log_file = tmp_path / "gui.log"
    previous = os.umask(0o022)
    try:
        with ExitStack() as cleanup:
            _log_to(log_file, cleanup)
            logging.getLogger("station.gui").warning("a line in the log")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert "a line in the log" in log_file.read_text(encoding="utf-8")


def test_a_window_log_others_can_read_is_refused_with_the_chmod_that_fixes_it(tmp_path: Path) -> None:
    log_file = tmp_path / "gui.log"
    log_file.write_text("lines of an older window\n", encoding="utf-8")
    log_file.chmod(0o644)
    with ExitStack() as cleanup, pytest.raises(ConfigError, match=f"run chmod 600 {log_file}$"):
        _log_to(log_file, cleanup)
    assert log_file.read_text(encoding="utf-8") == "lines of an older window\n"  # nothing appended


def test_a_station_that_stops_with_a_problem_says_what_to_do(window: MainWindow) -> None:
    window.station_stopped("The station stopped: record store is full.")
    assert window.banner.isVisible()
    assert "Restart the station" in window.banner.text()
