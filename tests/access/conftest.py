"""Fixtures for access tests: a station store with a manual clock, its audit log, accounts, a session.

The user store hashes with scrypt n=2**10 here (the PIN tests check the real parameters): the logic
under test is the same, and a test with a dozen logins stays quick on a loaded machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.access.audit import AuditLog
from station.access.pins import Pin, hash_pin
from station.access.session import OperatorSession
from station.access.users import UserStore
from station.core.operator import Operator
from station.records.jws import key_id
from station.records.store.sqlite import SqliteStore

ADMIN_PIN, OPERATOR_PIN = "482913", "905172"


class ManualClock:
    """The store's clock: moves only when a test calls ``advance``."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def trusted(signing_key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {key_id(signing_key.public_key()): signing_key.public_key()}


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> SqliteStore:
    return SqliteStore(tmp_path / "records.sqlite3", clock=clock)


@pytest.fixture
def audit(store: SqliteStore, signing_key: Ed25519PrivateKey) -> AuditLog:
    return AuditLog(store, signing_key)


@pytest.fixture
def users(audit: AuditLog) -> UserStore:
    return UserStore(audit, hasher=partial(hash_pin, n=2**10))


@pytest.fixture
def admin(users: UserStore) -> Operator:
    """The bootstrap admin A0001 (PIN ADMIN_PIN) and an operator B0042 (PIN OPERATOR_PIN)."""
    users.add("A0001", "Ada Admin", "admin", Pin(ADMIN_PIN), by=None)
    operator = Operator("A0001", "admin")
    users.add("B0042", "Bo Operator", "operator", Pin(OPERATOR_PIN), by=operator)
    return operator


@pytest.fixture
def session(users: UserStore) -> OperatorSession:
    return OperatorSession(users, face="gui")
