"""The soak and chaos scripts (``bench/soak.py``, ``bench/chaos.py``) run end to end at a tiny size.

The figures they print are evidence, not assertions of speed or memory: these tests check only that a
short run completes and that the chaos run's must-be-0 figures are 0 (no unit provisioned twice, no
record failing verification, no chain break, no lost verdict), as its exit status says too.

The chaos run here swaps a unit 2 s after the station left it (``--swap-after``; the script's default is
4 s). The run waits for every swap, five per slot, so that time is most of its wall time. 2 s is still
longer than any pause inside a unit's run (retry backoffs of at most 1 s, the fault plan's 1 s delays),
so units are swapped between runs, as in the full run. Restarts come after 0-2.5 s (1.25 times the swap
time): a restarted station finds either its unit again (the resume path) or another one (the abandon
path, an ``aborted`` record); the figures must hold either way.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 900  # seconds: a hung script fails the test instead of hanging the suite; not a speed limit


def run_bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def figure(output: str, name: str) -> int:
    """The value printed in the chaos table's row ``name``."""
    match = re.search(rf"^\s+{re.escape(name)}\s+(\d+)\s", output, re.MULTILINE)
    assert match is not None, f"no row {name!r} in:\n{output}"
    return int(match.group(1))


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT)
def test_soak_runs_and_prints_growth_after_warmup() -> None:
    result = run_bench("bench.soak", "--units", "20", "--fixtures", "2", "--every", "5", "--warmup", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [
        line
        for line in result.stdout.splitlines()
        if re.match(r"^\s+\d+\s+[\d.]+\s+[\d.]+\s+\d+\s+\d+$", line)
    ]
    assert [int(line.split()[0]) for line in rows] == [0, 5, 10, 15, 20]
    assert "memory (RSS)" in result.stdout and "descriptors" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT)
def test_chaos_with_kills_keeps_every_must_be_zero_figure_at_zero(tmp_path: Path) -> None:
    folder = tmp_path / "chaos"
    result = run_bench(
        "bench.chaos",
        "--units",
        "20",
        "--kills",
        "2",
        "--fixtures",
        "4",
        "--seed",
        "5",
        "--swap-after",
        "2",
        "--keep",
        str(folder),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for name in ("units provisioned twice", "records failing verification", "chain breaks"):
        assert figure(output, name) == 0, output
    assert figure(output, "records") >= 20
    assert figure(output, "units with exactly one final verdict") == figure(
        output, "units the station wrote to or recorded"
    )
    assert "(2 killed with SIGKILL)" in output
