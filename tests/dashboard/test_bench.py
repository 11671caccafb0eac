"""``python -m bench.dashboard`` runs end to end on a small line and prints its figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pgserver import drop_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_dashboard_bench_prints_latency_and_live_delay(pg_admin: str, tmp_path: Path) -> None:
    environment = {**os.environ, "STATION_TEST_PG": pg_admin, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.dashboard", "--records", "1000", "--requests", "3", "--live", "2",
             "--cache", str(tmp_path)],
            capture_output=True, text=True, check=False, timeout=600, cwd=ROOT, env=environment,
        )  # fmt: skip
    finally:
        drop_database(pg_admin, "dashboard_bench_1000")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "unit search (verified)" in done.stdout and "worst page p95" in done.stdout
    assert "live delay, sync commit -> event on the page: median" in done.stdout
