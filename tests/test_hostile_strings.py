"""A unit whose ``hwv`` holds escape codes and a fake progress line, run through the whole headless station.

The unit fails ``bad-reply`` naming ``hwv`` (its value reaches no record); nothing the station prints,
from the progress lines to ``records show``, holds a raw control character or the forged line.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from station.cli.main import main
from station.core.events import AlreadyPassed, LogLine, Outcome, RunFinished, UnitIdentified
from station.sim.ppa.routes import system
from tests.pipeline.conftest import quick_retries

HOSTILE_HWV = "PPA rev 2.2\x1b[31m\n  N1  PASS  fakefakefake  record spoofed\x1b[0m"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every control character but the newline


def _no_control(text: str) -> None:
    found = CONTROL.search(text)
    assert found is None, f"raw control character {found.group()!r} in: {text!r}"


@pytest.mark.usefixtures(quick_retries.__name__)  # the three reads of hwv, without the pauses between
def test_a_hostile_hwv_fails_bad_reply_and_prints_nothing_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(system, "HWV", HOSTILE_HWV)
    data = tmp_path / "data"
    assert main(["demo", "--fixtures", "1", "--units", "1", "--data", str(data)]) == 1
    out, err = capsys.readouterr()
    _no_control(out + err)
    assert "fakefakefake" not in out + err
    assert "units: 1   pass: 0   fail: 1" in out
    assert "reply field 'hwv' holds characters other than printable ASCII" in out
    assert "OK: every record verifies" in out  # the FAIL record is written and signed

    with sqlite3.connect(data / "records.sqlite3") as connection:
        (record_id,) = connection.execute("SELECT record_id FROM records").fetchone()
    assert main(["records", "show", "--data", str(data), record_id]) == 0
    shown, err = capsys.readouterr()
    _no_control(shown + err)
    assert "code bad-reply" in shown and "'hwv'" in shown
    assert "fakefakefake" not in shown


def test_progress_lines_escape_what_a_unit_said(capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever reaches an event (a unit id, a message quoting a unit) is printed on one escaped line."""
    import sys

    from station.cli.console import ProgressPrinter

    printer = ProgressPrinter(sys.stdout, verbose=True)
    forged = "identify: \x1b[2J\r  N1  PASS  fakefakefake\x00"
    printer(LogLine("N1", 0.0, "run-1", "warning", forged))
    printer(UnitIdentified("N1", 0.0, "run-1", "dev\x1bice"))
    printer(RunFinished("N1", 0.0, "run-1", Outcome.FAIL, "dev\nice", None, "identify", forged))
    printer(AlreadyPassed("N1", 0.0, "dev\r\nice", "rec-1"))
    out = capsys.readouterr().out
    _no_control(out)
    assert out.count("\n") == 5  # the warning, each verdict with its reason line: no forged line
    assert "dev\\r\\nice  record rec-1" in out
    assert "identify: \\x1b[2J\\r  N1  PASS  fakefakefake\\x00" in out
    assert "dev\\nice" in out
