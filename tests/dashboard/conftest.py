"""A small line for dashboard tests: one station's signed records (passes, failures of three kinds, QA, RMA),
in its SQLite store and, synced, in a PostgreSQL line database; the app over either."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.records import Failure, Links, RecordWriter, SqliteStore, key_id
from station.records.entries import StoredRecord
from tests.records.factories import CONFIG_SHA256, Ca, draft, make_ca, random_unit
from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse

pytest.importorskip("starlette", reason="the dashboard extra is not installed: pip install -e '.[dashboard]'")

STATION = "line1-st01"
FAILURES = [  # (step, code, message, outcome, how many)
    ("provision", "HTTP 406", "POST /api/system/provision: refused with 406", "fail", 3),
    ("firmware", "timeout", "GET /api/system/status: no answer within 10 s", "error", 2),
    ("verify-lock", "lock-open", "the unit still accepts a certificate", "fail", 1),
]


@dataclasses.dataclass
class Line:
    store: SqliteStore
    writer: RecordWriter
    key: Ed25519PrivateKey
    ca: Ca
    passed: list[StoredRecord]
    failed: list[StoredRecord]

    @property
    def trusted(self) -> dict[str, Ed25519PublicKey]:
        return {key_id(self.key.public_key()): self.key.public_key()}

    def add_pass(self, profile: str = "bank") -> StoredRecord:
        record = self.writer.append(draft(self.ca, personalization={"profile": profile}))
        self.passed.append(record)
        return record

    def add_failure(self, step: str, code: str, message: str, outcome: str) -> StoredRecord:
        failing = dataclasses.replace(draft(outcome=outcome), failure=Failure(step, code, message))
        record = self.writer.append(failing)
        self.failed.append(record)
        return record


def make_line(folder: Path) -> Line:
    key = Ed25519PrivateKey.generate()
    store = SqliteStore(folder / "records.sqlite3")
    writer = RecordWriter(store, key, key_id(key.public_key()), STATION, config_sha256=CONFIG_SHA256)
    line = Line(store, writer, key, make_ca(), [], [])
    for profile in ("bank", "bank", "bank", "default"):
        line.add_pass(profile)
    for step, code, message, outcome, count in FAILURES:
        for _ in range(count):
            line.add_failure(step, code, message, outcome)
    first = line.passed[0]
    unit = dataclasses.replace(random_unit(), devid=first.devid, genuine_id=first.genuine_id)
    verified = dataclasses.replace(draft(unit=unit, mode="qa"), links=Links(verifies=first.record_id))
    line.writer.append(verified)  # a QA record of the first unit: part of its history
    return line


@pytest.fixture
def line(tmp_path: Path) -> Line:
    return make_line(tmp_path)


@pytest.fixture
def synced_line(line: Line, line_url: str) -> Iterator[tuple[Line, str]]:
    from station.records.line.sync import sync
    from station.records.store.postgres import PostgresStore

    assert sync(line.store, PostgresStore(line_url), line.key.public_key()).ok
    yield line, line_url
