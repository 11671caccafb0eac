"""``StationData``: the station that writes and the commands that read open the same data; readers
create nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.app.data import StationData
from station.core.config import load
from station.core.errors import ConfigError, RecordError
from station.records.jws import key_id


def _pem(path: Path, key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.write_bytes(public)
    return path


def test_a_reader_of_a_new_data_directory_creates_nothing(tmp_path: Path) -> None:
    data = StationData.open(None, data_dir=tmp_path / "data")
    assert data.trusted_keys() == {}
    assert data.ca_certificate() is None
    with pytest.raises(RecordError, match="no record store"):
        data.store()
    assert not (tmp_path / "data").exists()


def test_readers_trust_the_key_the_station_signs_with(tmp_path: Path) -> None:
    station = StationData.open(None, data_dir=tmp_path / "data", create=True)
    signer = station.signing_key()
    station.store()  # created: the station's first start
    reader = StationData.open(None, data_dir=tmp_path / "data")
    assert reader.store().path == tmp_path / "data" / "records.sqlite3"
    kid = key_id(signer.public_key())
    assert list(reader.trusted_keys()) == [kid]
    assert key_id(reader.signing_public_key()) == kid


def test_the_configuration_places_the_data_and_keys_relative_to_its_folder(tmp_path: Path) -> None:
    config_path = tmp_path / "line1" / "station.toml"
    config_path.parent.mkdir()
    config_path.write_text('[station]\nid = "st01"\ndata_dir = "data"\n', encoding="utf-8")
    data = StationData.open(load(config_path))
    assert data.data_dir == tmp_path / "line1" / "data"
    assert data.base_dir == tmp_path / "line1"
    assert data.store_path == tmp_path / "line1" / "data" / "records.sqlite3"
    other = tmp_path / "copy.sqlite3"
    assert StationData.open(None, data_dir=tmp_path, store=other).store_path == other


def test_trust_files_add_keys_and_anything_else_is_named(tmp_path: Path) -> None:
    foreign = Ed25519PrivateKey.generate()
    trusted = _pem(tmp_path / "st02.pem", foreign)
    data = StationData.open(None, data_dir=tmp_path / "data", trust=[trusted])
    assert list(data.trusted_keys()) == [key_id(foreign.public_key())]

    p256 = _pem(tmp_path / "ca.pem", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigError, match="must be an Ed25519 public key") as wrong:
        StationData.open(None, data_dir=tmp_path, trust=[p256]).trusted_keys()
    assert str(p256) in str(wrong.value)
    with pytest.raises(ConfigError, match="cannot read the trusted record key"):
        StationData.open(None, data_dir=tmp_path, trust=[tmp_path / "missing.pem"]).trusted_keys()
