"""Fixtures for record tests: a station signing key, a store in a temporary folder, a writer, a CA."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.records import RecordWriter, SqliteStore, key_id
from tests.records.factories import CONFIG_SHA256, Ca, make_ca
from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse

STATION = "test-st01"


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def trusted(signing_key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {key_id(signing_key.public_key()): signing_key.public_key()}


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "records.sqlite3"


@pytest.fixture
def store(store_path: Path) -> SqliteStore:
    return SqliteStore(store_path)


@pytest.fixture
def writer(store: SqliteStore, signing_key: Ed25519PrivateKey) -> RecordWriter:
    return RecordWriter(
        store, signing_key, key_id(signing_key.public_key()), STATION, config_sha256=CONFIG_SHA256
    )


@pytest.fixture(scope="session")
def ca() -> Ca:
    return make_ca()
