"""``station gui`` stopped by systemd (SIGTERM) ends cleanly: exit 0 after the steps in progress.

The demo runs with ``--timing fast``: the test waits for a first record, not for realistic seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DEADLINE = 60.0  # seconds to wait for conditions; not a speed requirement


def _first_record(tmp: Path) -> bool:
    return any(
        folder.is_dir() and (folder / "records.sqlite3").exists() and _has_record(folder / "records.sqlite3")
        for folder in tmp.glob("station-gui-demo-*")
    )


def _has_record(path: Path) -> bool:
    from station.records.store.sqlite import SqliteStore

    return next(iter(SqliteStore(path, create=False).records()), None) is not None


def test_sigterm_closes_the_window_after_the_current_steps(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", "gui", "--demo", "--fixtures", "2", "--timing", "fast"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not _first_record(tmp_path):  # the window is up and units are running
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no unit finished"
            time.sleep(0.2)  # polling a file another process writes; the condition is what we wait for
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0, proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
