"""One contract for every record store: the station's SQLite file and the line's PostgreSQL database.

Example::

    class TestSqliteStore(StoreContract):
        @pytest.fixture
        def store(self, source: Source) -> RecordStore:
            return source.local

        def raw(self, store: RecordStore, statement: str, *parameters: object) -> None: ...  # a shell

A ``Source`` is a station's SQLite store written by two ``RecordWriter``s (stations "st-a" and "st-b"),
with passing and failing production records and a QA record. Each implementation's ``store`` fixture
must hold exactly those records (SQLite: the source itself; PostgreSQL: the line database after a real
sync), and every test below must pass unchanged against it. ``raw`` runs SQL past the store's code, so the
append-only and gapless rules are shown to live in the database itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.core.errors import RecordError
from station.records import RecordWriter, SqliteStore, StoredRecord, key_id, trusted_keys_from, verify_store
from station.records.model import UnitIdentity
from station.records.store import RecordStore
from tests.records.factories import CONFIG_SHA256, Ca, draft, random_unit


@dataclass
class Source:
    local: SqliteStore
    key: Ed25519PrivateKey
    written: list[StoredRecord]
    unit: UnitIdentity  # passed production at st-a seq 2, then failed once and went through QA


def make_source(tmp_path: Path, ca: Ca) -> Source:
    """Two stations' records in one SQLite store (see the module docstring)."""
    local = SqliteStore(tmp_path / "records.sqlite3")
    key = Ed25519PrivateKey.generate()
    writers = {
        station: RecordWriter(local, key, key_id(key.public_key()), station, config_sha256=CONFIG_SHA256)
        for station in ("st-b", "st-a")
    }
    unit = replace(random_unit(), eid="Zm9v+/unit-instance=")  # every other unit has eid-public-b64
    plan = [
        ("st-a", draft(ca)),
        ("st-b", draft(ca, outcome="fail")),
        ("st-a", draft(ca, unit=unit)),
        ("st-a", draft(ca, unit=unit, outcome="fail")),
        ("st-b", draft(ca)),
        ("st-a", draft(ca, unit=unit, mode="qa")),
        ("st-a", draft(ca, outcome="fail")),
    ]
    written = [writers[station].append(record) for station, record in plan]
    return Source(local, key, written, unit)


class StoreContract:
    """The behaviour every ``store.RecordStore`` must show; subclasses provide ``store`` and ``raw``."""

    refused: type[BaseException] = Exception  # what ``raw`` raises when the database refuses a statement

    @pytest.fixture
    def source(self, tmp_path: Path, ca: Ca) -> Source:
        return make_source(tmp_path, ca)

    @pytest.fixture
    def store(self, source: Source) -> RecordStore:
        raise NotImplementedError

    def raw(self, store: RecordStore, statement: str, *parameters: object) -> None:
        """Run ``statement`` (``?`` placeholders) on a plain connection, past the store's code."""
        raise NotImplementedError

    def test_get_returns_each_record_as_written(self, store: RecordStore, source: Source) -> None:
        for record in source.written:
            assert store.get(record.record_id) == record
        assert store.get("no-such-record") is None

    def test_last_and_at(self, store: RecordStore, source: Source) -> None:
        a = [record for record in source.written if record.station_id == "st-a"]
        assert store.last("st-a") == a[-1]
        assert store.at("st-a", 2) == a[1]
        assert store.at("st-a", 99) is None
        assert store.last("nobody") is None

    def test_records_in_chain_order_with_filters(self, store: RecordStore, source: Source) -> None:
        in_order = sorted(source.written, key=lambda record: (record.station_id, record.seq))
        assert list(store.records()) == in_order
        assert [r.seq for r in store.records(station_id="st-b")] == [1, 2]
        assert [(r.station_id, r.seq) for r in store.records(devid=source.unit.devid)] == [
            ("st-a", 2),
            ("st-a", 3),
            ("st-a", 4),
        ]
        assert [r.seq for r in store.records(station_id="st-a", devid=source.unit.devid)] == [2, 3, 4]
        assert list(store.records(station_id="nobody")) == []

    def test_records_of_unit_by_devid_or_genuine_id(self, store: RecordStore, source: Source) -> None:
        unit = source.unit
        expected = [("st-a", 2), ("st-a", 3), ("st-a", 4)]
        assert [(r.station_id, r.seq) for r in store.records_of_unit(devid=unit.devid)] == expected
        assert [(r.station_id, r.seq) for r in store.records_of_unit(genuine_id=unit.genuine_id)] == expected
        both = store.records_of_unit(devid=unit.devid, genuine_id=source.written[0].genuine_id)
        assert [(r.station_id, r.seq) for r in both] == [("st-a", 1), *expected]
        assert store.records_of_unit(devid="0" * 16) == []
        with pytest.raises(RecordError, match="needs a devid or a genuine_id"):
            store.records_of_unit()

    def test_records_of_instance_by_the_eid_in_the_payload(self, store: RecordStore, source: Source) -> None:
        found = store.records_of_instance(source.unit.eid or "")
        assert [(r.station_id, r.seq) for r in found] == [("st-a", 2), ("st-a", 3), ("st-a", 4)]
        assert found == [store.get(record.record_id) for record in found]
        assert len(store.records_of_instance("eid-public-b64")) == len(source.written) - 3
        for near in ("Zm9v+/unit-instance", "Zm9v+/unit-instance==", "zm9v+/unit-instance=", "nobody"):
            assert store.records_of_instance(near) == [], near  # exact, case-sensitive

    def test_records_pages_through_long_chains(
        self, store: RecordStore, source: Source, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(type(store).__module__ + "._PAGE", 2)
        assert [(r.station_id, r.seq) for r in store.records()] == [
            ("st-a", 1), ("st-a", 2), ("st-a", 3), ("st-a", 4), ("st-a", 5), ("st-b", 1), ("st-b", 2),
        ]  # fmt: skip

    def test_stations(self, store: RecordStore) -> None:
        assert store.stations() == ["st-a", "st-b"]

    def test_find_production_by_devid_or_genuine_id(self, store: RecordStore, source: Source) -> None:
        entry = store.find_production(devid=source.unit.devid)
        assert entry is not None
        assert (entry.station_id, entry.seq, entry.genuine_id) == ("st-a", 2, source.unit.genuine_id)
        assert entry.record_id == source.written[2].record_id
        assert entry.provisioned_at == source.written[2].payload["finished"]
        assert store.find_production(genuine_id=source.unit.genuine_id) == entry
        assert store.find_production(devid="0" * 16) is None
        failed = source.written[1]
        assert store.find_production(devid=failed.devid) is None  # failures are not registered
        with pytest.raises(RecordError, match="needs a devid or a genuine_id"):
            store.find_production()

    def test_registry_holds_the_passing_production_records(self, store: RecordStore, source: Source) -> None:
        passing = {r.record_id for r in source.written if r.mode == "production" and r.outcome == "pass"}
        assert {entry.record_id for entry in store.registry_entries()} == passing

    def test_everything_verifies(self, store: RecordStore, source: Source, ca: Ca) -> None:
        report = verify_store(store, trusted_keys_from([source.key.public_key()]), ca.certificate)
        assert report.ok, report.first
        assert report.stations == {"st-a": 5, "st-b": 2}
        assert store.integrity() is None

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE records SET outcome = 'pass'",
            "DELETE FROM records WHERE seq = 5",
            "UPDATE unit_registry SET station_id = 'st-x'",
            "DELETE FROM unit_registry",
        ],
    )
    def test_the_database_refuses_to_rewrite_history(self, store: RecordStore, statement: str) -> None:
        with pytest.raises(self.refused, match="append-only"):
            self.raw(store, statement)
        assert len(list(store.records())) == 7

    def test_the_database_refuses_a_gap(self, store: RecordStore, source: Source) -> None:
        text = source.written[0].jws
        with pytest.raises(self.refused, match="does not follow"):
            self.raw(
                store,
                "INSERT INTO records (station_id, seq, record_id, mode, outcome, created, jws) "
                "VALUES ('st-a', 7, 'gap-record', 'qa', 'pass', 'now', ?)",
                text,
            )

    def test_the_database_refuses_a_second_registry_entry(self, store: RecordStore, source: Source) -> None:
        other = source.written[4]  # st-b seq 2, a passing production record of another unit
        with pytest.raises(self.refused):
            self.raw(
                store,
                "INSERT INTO unit_registry (devid, genuine_id, station_id, seq, record_id, provisioned_at) "
                "VALUES (?, 'other', 'st-b', 2, ?, 'now')",
                source.unit.devid,
                other.record_id,
            )
