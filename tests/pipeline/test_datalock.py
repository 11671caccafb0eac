"""One station process per data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from station.app.datalock import LOCK_NAME, DataDirLock
from station.core.errors import ConfigError
from tests.pipeline.conftest import LineFactory


def test_a_second_station_on_the_same_data_directory_is_refused(line_factory: LineFactory) -> None:
    line = line_factory()
    with pytest.raises(ConfigError) as refused:
        DataDirLock.acquire(line.data_dir)
    assert f"pid {os.getpid()}" in str(refused.value) and str(line.data_dir) in str(refused.value)
    line.station.close()
    DataDirLock.acquire(line.data_dir).release()  # closed: the next station may open


def test_another_process_is_refused_and_a_dead_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from pathlib import Path; from station.app.datalock import DataDirLock; "
            f"lock = DataDirLock.acquire(Path({str(tmp_path)!r})); print('held', flush=True); input()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"pid {holder.pid}"):
            DataDirLock.acquire(tmp_path)
    finally:
        holder.kill()  # as a power cut would: no release
        holder.wait()
    lock = DataDirLock.acquire(tmp_path)
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    lock.release()
