"""The production example (packaging/station.production.toml): Encedo's service, the CA from configuration.

It is a template: it loads, names Encedo's service and a CA certificate file, and refuses to start until
the integrator has put in what only they have (the CA certificate Encedo gives them, their escrow key).
"""

from __future__ import annotations

import shutil
from base64 import b64encode
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.app.assembly import Choices, check_and_plan
from station.core.config import load
from station.core.errors import ConfigError
from station.factory.backend import LocalBackend
from station.factory.keys.keystore import FileKeyStore
from station.factory.remote import ENCEDO_URL
from station.factory.settingscheck import check_settings
from tests.test_packaging_files import build

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "packaging" / "station.production.toml"


def test_the_example_uses_encedos_service_with_the_ca_from_configuration() -> None:
    config = load(EXAMPLE)
    assert (config.backend.kind, config.backend.url, config.backend.ca_certificate) == (
        "remote",
        ENCEDO_URL,
        "factory-ca.pem",
    )
    assert config.station.simulated is False
    assert {fixture.kind for fixture in config.fixtures} == {"usbnet"}
    assert build.FILES["packaging/station.production.toml"] == "share/examples/station.production.toml"


def test_the_shipped_demo_station_stays_on_its_local_backend() -> None:
    config = load(REPO / "station.toml")
    assert (config.backend.kind, config.backend.url) == ("local", None)


def test_the_example_refuses_to_start_until_the_integrator_fills_it_in(tmp_path: Path) -> None:
    copy = tmp_path / "station.toml"
    shutil.copy(EXAMPLE, copy)
    with pytest.raises(ConfigError) as no_ca:
        check_settings(load(copy))
    assert str(no_ca.value) == (
        f"{copy}: [backend.ca_certificate] {tmp_path / 'factory-ca.pem'}: cannot read the factory CA "
        "certificate (No such file or directory)"
    )
    ca = LocalBackend(FileKeyStore(tmp_path / "keys"), name="stand-in").ca_certificate()
    (tmp_path / "factory-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(ConfigError, match=r"\[firmware\.release_key\]"):
        check_settings(load(copy))  # the CA certificate read: the firmware release key is next
    release = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    copy.write_text(
        copy.read_text().replace('release_key = "REPLACE"', f'release_key = "{b64encode(release).decode()}"')
    )
    check_settings(load(copy))  # the backend and firmware sections are complete
    with pytest.raises(ConfigError, match=r"\[profile\.default\.escrow_public_key\]"):
        check_and_plan(load(copy), Choices())
