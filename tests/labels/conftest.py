"""Label tests: a fake ZPL printer on 127.0.0.1, a known record, signed records in a real store.

Example::

    def test_prints(printer: FakePrinter, service: LabelService, passed: StoredRecord) -> None:
        assert service.after_pass(passed) == "label printed"
        assert printer.wait_documents(1) == [service.for_record(passed).zpl]

The preview tests need Qt: pytest-qt is loaded here as in ``tests/gui/conftest.py`` (only when Qt loads).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.labels import LabelService, LabelTemplate, ZplPrinter
from station.labels.template import SHIPPED_TEMPLATE
from station.records import RecordWriter, SqliteStore, key_id
from station.records.entries import StoredRecord
from station.records.payload import RecordPayload
from tests.fakeprinter import FakePrinter
from tests.records.factories import draft, make_ca
from tests.requirements import in_ci

try:
    from PySide6 import QtWidgets  # noqa: F401 - loads the Qt libraries

    QT_PROBLEM: str | None = None
except ImportError as exc:
    QT_PROBLEM = f"PySide6 cannot load ({exc}); pip install -e '.[gui]' and the Qt runtime libraries"


if QT_PROBLEM is not None and not in_ci():
    collect_ignore = ["test_preview.py"]


def pytest_configure(config: pytest.Config) -> None:
    if QT_PROBLEM is None and not config.pluginmanager.has_plugin("pytestqt.plugin"):
        config.pluginmanager.import_plugin("pytestqt.plugin")


# A record payload with fixed values: the golden ZPL is rendered from it.
KNOWN_PAYLOAD: Mapping[str, Any] = {
    "schema": "ppa-station/record/1",
    "record_id": "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f",
    "station": {"id": "line1-st01", "software": "ppa-station 0.1.0", "config_sha256": "ab" * 32,
                "key_id": "k1"},
    "seq": 42,
    "prev": "0" * 64,
    "mode": "production",
    "operator": {"id": "op7", "role": "operator"},
    "fixture": {"slot": "A1", "port": None},
    "unit": {"devid": "2023b758c209269a", "genuine_id": "0123eb561f5ea073ee", "fwv": "Encedo nGINE FW v1.2.2",
             "hwv": "PPA rev1"},
    "provisioning": None,
    "personalization": {"profile": "acme-2026-q4"},
    "steps": [],
    "outcome": "pass",
    "failure": None,
    "links": {"supersedes": None, "verifies": None},
    "started": "2025-03-04T09:59:20.000Z",
    "finished": "2025-03-04T10:00:05.123Z",
    "simulated": False,
}  # fmt: skip
KNOWN_RECORD = RecordPayload.parse(KNOWN_PAYLOAD)


def stored(payload: Mapping[str, Any]) -> StoredRecord:
    """A StoredRecord around ``payload`` (columns from the payload; the JWS is not needed for labels)."""
    unit = payload.get("unit") or {}
    return StoredRecord(
        station_id=payload["station"]["id"],
        seq=payload["seq"],
        record_id=payload["record_id"],
        devid=unit.get("devid"),
        genuine_id=unit.get("genuine_id"),
        mode=payload["mode"],
        outcome=payload["outcome"],
        created=payload["finished"],
        jws="",
        payload=payload,
    )


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def service(printer: FakePrinter) -> LabelService:
    return LabelService(
        LabelTemplate.load(SHIPPED_TEMPLATE),
        ZplPrinter("127.0.0.1", printer.port, timeout=5.0),
        product="Encedo PPA",
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "records.sqlite3")


@pytest.fixture
def writer(store: SqliteStore) -> RecordWriter:
    key = Ed25519PrivateKey.generate()
    return RecordWriter(store, key, key_id(key.public_key()), "test-st01", config_sha256="ab" * 32)


@pytest.fixture
def passed(writer: RecordWriter) -> StoredRecord:
    """A signed, stored, passing production record of a simulated unit."""
    return writer.append(draft(make_ca()))


@pytest.fixture
def failed(writer: RecordWriter) -> StoredRecord:
    return writer.append(draft(outcome="fail"))
