"""`station sim companion` as a user runs it: one JSON line, loopback only, clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from station.devices.springcore.client import CompanionClient

TIMEOUT = 10
ROOT = Path(__file__).resolve().parents[3]


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", "sim", "companion", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_prints_one_json_line_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = start("--readers", "3", "--seed", "1", cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert set(line) == {"rest", "readers"}
        assert line["rest"].startswith("http://127.0.0.1:")
        devices = CompanionClient.at(line["rest"]).devices()
        assert [d.device_id for d in devices] == line["readers"]
        assert len(line["readers"]) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0


def test_faults_are_reported_on_stderr_and_sigint_stops(tmp_path: Path) -> None:
    proc = start("--readers", "0", "--faults", "500 times=1", "--timing", "realistic*0.1", cwd=tmp_path)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = json.loads(proc.stdout.readline())
        assert line["readers"] == []
        assert requests.get(line["rest"] + "/devices", timeout=TIMEOUT).status_code == 500
        assert json.loads(proc.stderr.readline()) == {"fault": "500", "method": "GET", "path": "/devices"}
        assert requests.get(line["rest"] + "/devices", timeout=TIMEOUT).json() == []
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=TIMEOUT) == 0


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = start(*args, cwd=cwd)
    out, err = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    for args, message in [
        (("--faults", "explode"), "unknown fault kind"),
        (("--timing", "slow"), "unknown timing profile 'slow'"),
        (("--timing", "realistic*0"), "must be a positive number"),
        (("--readers", "-1"), "--readers must be 0 or more"),
        (("--port", "70000"), "--port must be"),
    ]:
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_refuses_a_production_configuration(tmp_path: Path) -> None:
    config = tmp_path / "prod.toml"
    config.write_text('[station]\nid = "line1-st01"\nsimulated = false\n')
    result = run("--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "production configuration" in result.stderr
