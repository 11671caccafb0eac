"""The station's command line as a user runs it: demo, records verify/export/show, keys, CA, secrets."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.records.jws import peek

REPO = Path(__file__).resolve().parent.parent


def station(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo run shared by the tests of this module: 4 units over 2 simulated fixtures."""
    folder = tmp_path_factory.mktemp("demo")
    result = station("demo", "--fixtures", "2", "--units", "4", "--data", str(folder / "data"), cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "units: 4   pass: 4" in result.stdout
    assert "OK: every record verifies" in result.stdout
    assert "units/hour" in result.stdout and "median step times" in result.stdout
    return folder / "data"


def test_records_verify_passes_on_demo_output(demo_data: Path) -> None:
    result = station("records", "verify", "--data", str(demo_data), cwd=demo_data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 4 records" in result.stdout


def test_records_verify_fails_on_a_copy_with_one_byte_changed(demo_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(demo_data, copy)
    database = copy / "records.sqlite3"
    with sqlite3.connect(database) as connection:
        record_id, text = connection.execute("SELECT record_id, jws FROM records WHERE seq = 2").fetchone()
    raw = database.read_bytes()
    # A long JWS spans SQLite overflow pages: find a short piece of its payload. SQLite may also keep a
    # stale copy of a page in free space; the same byte is changed wherever the piece appears.
    piece = text[text.index(".") + 40 :][:32].encode()
    assert raw.count(piece) >= 1
    changed = (b"B" if piece[:1] != b"B" else b"C") + piece[1:]
    database.write_bytes(raw.replace(piece, changed))

    result = station("records", "verify", "--data", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    report = result.stdout + result.stderr
    assert record_id in report
    assert "seq 2" in report


def test_records_verify_names_an_unknown_signing_key(demo_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(demo_data, copy)
    (copy / "keys" / "station-signing.pem").unlink()  # the verifier no longer knows the station's key
    result = station("records", "verify", "--data", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    assert "key" in (result.stdout + result.stderr).lower()


def test_export_jsonl_and_csv(demo_data: Path) -> None:
    jsonl = station("records", "export", "--data", str(demo_data), cwd=demo_data)
    assert jsonl.returncode == 0
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(lines) == 4
    assert all(peek(line["jws"])[1]["record_id"] == line["record_id"] for line in lines)
    csv = station("records", "export", "--format", "csv", "--data", str(demo_data), cwd=demo_data)
    assert csv.returncode == 0
    assert len(csv.stdout.splitlines()) == 5  # header + 4 records
    bad = station("records", "export", "--format", "xml", "--data", str(demo_data), cwd=demo_data)
    assert bad.returncode == 2
    assert "xml" in bad.stderr


def test_show_a_unit(demo_data: Path) -> None:
    with sqlite3.connect(demo_data / "records.sqlite3") as connection:
        (devid,) = connection.execute("SELECT devid FROM records WHERE seq = 1").fetchone()
    result = station("records", "show", "--data", str(demo_data), devid, cwd=demo_data)
    assert result.returncode == 0, result.stderr
    assert devid in result.stdout
    assert "pass" in result.stdout


def test_keys_and_ca_export(demo_data: Path) -> None:
    key = station("keys", "export", "--data", str(demo_data), cwd=demo_data)
    assert isinstance(serialization.load_pem_public_key(key.stdout.encode()), Ed25519PublicKey)
    ca = station("ca", "export", "--data", str(demo_data), cwd=demo_data)
    certificate = x509.load_pem_x509_certificate(ca.stdout.encode())
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_secrets_open_with_the_escrow_key(demo_data: Path) -> None:
    with sqlite3.connect(demo_data / "records.sqlite3") as connection:
        (record_id,) = connection.execute("SELECT record_id FROM records WHERE seq = 3").fetchone()
    escrow = demo_data / "keys" / "escrow-DEMO-ONLY.key"
    result = station(
        "secrets", "open", "--data", str(demo_data), record_id, "--escrow-key", str(escrow), cwd=demo_data
    )
    assert result.returncode == 0, result.stderr
    secrets = json.loads(result.stdout)
    assert len(secrets["mnemonic"].split()) == 24
    assert secrets["passphrase"]
    wrong = station(
        "secrets",
        "open",
        "--data",
        str(demo_data),
        "no-such-record",
        "--escrow-key",
        str(escrow),
        cwd=demo_data,
    )
    assert wrong.returncode == 2
    assert "no record no-such-record" in wrong.stderr


def test_run_names_a_bad_configuration(tmp_path: Path) -> None:
    (tmp_path / "station.toml").write_text(
        '[station]\nid = "x"\nsimulated = true\n[[fixture]]\nslot = "A1"\nkind = "warp"\n'
    )
    result = station("run", "--units", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "fixture[0].kind" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_station_cli_is_the_same_command_line(tmp_path: Path) -> None:
    """``python -m station.cli`` (as well as ``-m station.cli.main`` and the console script)."""
    result = subprocess.run(
        [sys.executable, "-m", "station.cli", "records", "verify", "--data", str(tmp_path / "none")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("records verify: no record store at ")
    assert not (tmp_path / "none").exists()  # a reader creates nothing
