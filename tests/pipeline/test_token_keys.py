"""The production pipeline with its CA key and record-signing key in a PKCS#11 token (a real SoftHSM2).

A simulated unit goes through the whole flow; the device certificate and the record's signature are made
inside the token, and ``station records verify`` (a separate process, given no PIN) accepts the record.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from station.core.codec import b64decode
from station.core.config import KeysSection
from station.core.events import Outcome
from station.factory.ca import verify_device_certificate
from station.factory.keys.keystore import init_token_key
from station.records import jws
from tests.factory.softhsm import PIN_ENV, SoftHsm, shared_softhsm, unique_label
from tests.pipeline.conftest import BATCH_ENV, LineFactory

REPO = Path(__file__).resolve().parents[2]
TOKEN = "factory"  # one token holds both keys here: a station has one PIN source for its tokens


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


def test_token_keys_issue_the_certificate_and_sign_a_record_that_verifies(
    line_factory: LineFactory, hsm: SoftHsm, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = hsm.keys_table(
        ca=hsm.uri(TOKEN, unique_label("factory-ca")),
        signing=hsm.uri(TOKEN, unique_label("station-signing")),
        pin_env=PIN_ENV,
    )
    environ = {**BATCH_ENV, PIN_ENV: hsm.pin(TOKEN)}
    section = KeysSection(**keys)  # `station keys init --pkcs11 URI` for both roles, in-process
    ca_public = init_token_key(section, section.ca, None, tmp_path, environ=environ)
    signing_public = init_token_key(section, section.signing, None, tmp_path, environ=environ)
    assert isinstance(ca_public, ec.EllipticCurvePublicKey)
    assert isinstance(signing_public, ed25519.Ed25519PublicKey)

    line = line_factory(keys=keys, environ=environ, fixtures=2)  # two workers share the token session
    verdicts = line.run(units=2)

    ca_certificate = line.station.ca_certificate()
    assert ca_certificate.public_key() == ca_public  # the station's CA is the token's key
    for verdict in verdicts:
        assert verdict.outcome is Outcome.PASS, verdict.failure
        crt = b64decode(verdict.record.payload["provisioning"]["crt"])
        verify_device_certificate(crt, ca_certificate)
        assert verdict.record.payload["station"]["key_id"] == jws.key_id(signing_public)
        jws.verify(verdict.record.jws, signing_public)
    report = line.verify()
    assert report.ok and report.checked == 2, report.problems

    folder = line.config.base_dir
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "station.cli.main",
            "records",
            "verify",
            "--config",
            str(folder / "station.toml"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in {**os.environ, "PYTHONPATH": str(REPO)}.items() if k != PIN_ENV},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 2 records" in result.stdout
    ca_file = line.data_dir / "keys" / f"{TOKEN}.{section.ca.split('object=')[1]}.crt.pem"
    assert ca_file.read_bytes() == ca_certificate.public_bytes(serialization.Encoding.PEM)

    pin = hsm.pin(TOKEN)
    assert pin not in caplog.text + result.stdout + result.stderr
    assert pin not in repr(line.station) + repr(line.station.writer) + repr(line.station.backend)
    for path in line.data_dir.rglob("*"):
        if path.is_file():
            assert pin.encode() not in path.read_bytes(), path
