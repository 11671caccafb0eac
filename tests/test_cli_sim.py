"""`station sim ppa` as a user runs it: JSON lines on stdout, loopback only, clean exit on SIGTERM."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from station.core import codec
from station.devices.ppa import protocol as p
from station.factory.keys.keystore import FileKeyStore

TIMEOUT = 10


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", "sim", "ppa", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


def test_sim_ppa_prints_one_line_per_unit_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = start("--count", "2", "--data", str(tmp_path / "data"), cwd=tmp_path)
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
        assert [line["slot"] for line in lines] == [0, 1]
        for line in lines:
            assert set(line) == {"slot", "http", "https", "devid"}
            assert line["http"].startswith("http://127.0.0.1:")
            assert line["https"].startswith("https://127.0.0.1:")
            status = requests.get(line["http"] + "/api/system/status", timeout=TIMEOUT)
            assert status.json()["inited"] is False
        # The units trust the check-in key the station keeps in that data directory.
        check = requests.get(lines[0]["http"] + "/api/system/checkin", timeout=TIMEOUT).json()["check"]
        trusted = p.parse_jwt(check).claims["aud"]
        station_key = FileKeyStore(tmp_path / "data" / "keys").x25519("checkin")
        assert trusted == codec.x25519_public_b64(station_key)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0


def test_explicit_backend_key_is_trusted(tmp_path: Path) -> None:
    key = codec.x25519_public_b64(bytes(range(32)))
    proc = start("--backend-key", key, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        check = requests.get(line["http"] + "/api/system/checkin", timeout=TIMEOUT).json()["check"]
        assert p.parse_jwt(check).claims["aud"] == key
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=TIMEOUT) == 0


def test_accept_makes_the_units_verify_an_image_by_its_hash(tmp_path: Path) -> None:
    image, other = os.urandom(3000), os.urandom(3000)  # opaque bytes: the units judge them by hash only
    digest = hashlib.sha256(image).hexdigest()
    proc = start(
        "--backend-key", codec.x25519_public_b64(bytes(range(32))), "--accept", f"{digest}=v9.9", cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["http"] + "/api/system/upgrade"
        for data, verdict in ((other, 406), (image, 200)):
            headers = {"Content-Disposition": 'attachment; filename="firmware.bin"'}
            assert (
                requests.post(f"{url}/upload_fw", data=data, headers=headers, timeout=TIMEOUT).status_code
                == 200
            )
            codes = [requests.get(f"{url}/check_fw", timeout=TIMEOUT).status_code]
            while codes[-1] in (201, 202) and len(codes) < 1000:  # the check runs a while (timing profile)
                codes.append(requests.get(f"{url}/check_fw", timeout=TIMEOUT).status_code)
            assert codes[0] == 201 and codes[-1] == verdict
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = start(*args, cwd=cwd)
    out, err = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_refuses_a_production_configuration(tmp_path: Path) -> None:
    config = tmp_path / "prod.toml"
    config.write_text('[station]\nid = "line1-st01"\nsimulated = false\n')
    result = run("--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "production configuration" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    for args, message in [
        (("--faults", "explode"), "unknown fault kind"),
        (("--timing", "slow"), "unknown timing profile 'slow'"),
        (("--backend-key", "abc"), "--backend-key must be"),
        (("--count", "2", "--http-port", "8080"), "need --count 1"),
        (("--accept", "abc=Encedo nGINE FW v1.2.3"), "is not a hex SHA-256"),
        (("--accept", "0" * 64), "no firmware version"),
    ]:
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr
