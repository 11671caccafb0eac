"""The figures of ``make bench`` that run in a child process: GUI event-loop stall, chain verification, sync.

Example::

    stall = run_child(["bench.gui_stall", "--fixtures", "32"])     # echoes its output, returns its results
    stall[0]["p99_ms"]

The GUI stall needs Qt and a window of its own, and the sync figures a PostgreSQL cluster, so each runs as
``python -m <module>`` beside the station benchmarks instead of inside them. A child prints its report for
people and, for this summary, lines ``BENCH-RESULT {json}`` (``harness.RESULT_PREFIX``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from bench.harness import RESULT_PREFIX

CHILD_DEADLINE = 900.0  # seconds; a child bench past this is stopped and reported as not run


def run_child(module_and_args: Sequence[str]) -> list[dict[str, Any]]:
    """Run ``python -m module args``, echo its output indented, return its result lines (empty: failed)."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and bench modules
            [sys.executable, "-m", *module_and_args],
            capture_output=True,
            text=True,
            timeout=CHILD_DEADLINE,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"  {module_and_args[0]}: stopped after {CHILD_DEADLINE:.0f} s", flush=True)
        return []
    results = []
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX + " "):
            results.append(json.loads(line[len(RESULT_PREFIX) + 1 :]))
        else:
            print("  " + line, flush=True)
    if done.returncode != 0:
        print(f"  {module_and_args[0]} exited {done.returncode}: {done.stderr.strip()[-400:]}", flush=True)
        return []
    return results
