"""``station gui`` as a user runs it: the demo saves a screenshot and exits 0; no display: one sentence.

The screenshot runs use ``--timing fast``: what is checked is the picture and the exit, not how long the
simulated units take (the demo's default is ``realistic``, seconds per unit).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from station.gui.app import SCREENSHOT_SIZE

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 300  # seconds: a hung window fails the test instead of hanging the suite


def station(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env={**env, "PYTHONPATH": str(REPO)},
        check=False,
    )


def test_the_demo_screenshot_is_saved_after_the_first_unit_and_the_command_exits_0(tmp_path: Path) -> None:
    picture = tmp_path / "window.png"
    args = ("gui", "--demo", "--fixtures", "1", "--timing", "fast", "--screenshot", str(picture))
    result = station(*args, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    image = QImage(str(picture))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert "Traceback" not in result.stderr


def test_without_a_display_the_window_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = station("gui", "--demo", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("station: no display to open the window on")
    assert "Traceback" not in result.stderr


def test_the_audit_view_screenshot_is_the_audit_window(tmp_path: Path) -> None:
    picture = tmp_path / "audit.png"
    demo = ("gui", "--demo", "--fixtures", "1", "--timing", "fast")
    args = (*demo, "--screenshot", str(picture), "--screenshot-view", "audit")
    result = station(*args, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    image = QImage(str(picture))
    assert (image.width(), image.height()) == (1200, 700)  # the audit dialog, not the main window


def test_an_unknown_screenshot_view_family_or_timing_is_one_line_naming_the_choices(tmp_path: Path) -> None:
    picture = str(tmp_path / "x.png")
    result = station(
        "gui", "--demo", "--screenshot", picture, "--screenshot-view", "tiles", env=dict(os.environ)
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "station: --screenshot-view must be one of window, login, records, audit, qa, rma, not 'tiles'"
    )
    result = station("gui", "--demo", "--family", "printers", env=dict(os.environ))
    assert result.returncode == 2
    assert "--family must be one of ppa, readers, mixed" in result.stderr
    result = station("gui", "--demo", "--timing", "slow", env=dict(os.environ))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "station: unknown timing profile 'slow'; choose one of fast, realistic (optionally NAME*FACTOR)"
    )
