"""``station run | qa | rma`` from the command line: who may run which mode, and what the records say."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from station.access.audit import read_audit
from station.access.pins import Pin
from station.app.data import StationData
from station.cli.login import open_access
from station.cli.main import main
from station.core.operator import Operator
from station.records.store.sqlite import SqliteStore
from tests.pipeline.conftest import BATCH_ENV, BATCH_PASSPHRASE, PROFILE, STATION_ID, _network_unit, toml_text

PINS = {"A0001": "731952", "B0042": "584217", "Q0007": "402716", "R0009": "918273"}
ROLES = {"A0001": "admin", "B0042": "operator", "Q0007": "qa", "R0009": "rma"}


class Bench:
    """A station folder with one network unit that outlives every station run, and its accounts."""

    def __init__(self, folder: Path, *, simulated: bool = True) -> None:
        self.folder, self.data = folder, folder / "data"
        self.unit = _network_unit(self.data)
        document: dict[str, Any] = {
            "station": {"id": STATION_ID, "data_dir": "data", "simulated": simulated},
            "profile": {"default": dict(PROFILE)},
            "fixture": [{"slot": "N1", "kind": "network", "url": self.unit.http_url}],
        }
        self.config = folder / "station.toml"
        self.config.write_text(toml_text(document), encoding="utf-8")

    def accounts(self) -> None:
        users = open_access(StationData.open(None, data_dir=self.data, create=True)).users
        admin = Operator("A0001", "admin")
        users.add(admin.id, "Ada Admin", "admin", Pin(PINS["A0001"]), by=None)
        for badge in ("B0042", "Q0007", "R0009"):
            users.add(badge, f"User {badge}", ROLES[badge], Pin(PINS[badge]), by=admin)

    def pin_file(self, badge: str) -> str:
        path = self.folder / f"{badge}.pin"
        path.write_text(PINS[badge] + "\n", encoding="utf-8")
        path.chmod(0o600)
        return str(path)

    def station(self, verb: str, badge: str | None, *extra: str) -> int:
        login = ["--operator", badge, "--pin-file", self.pin_file(badge)] if badge else []
        return main([verb, "--config", str(self.config), "--units", "1", *login, *extra])

    def records(self) -> list[Mapping[str, Any]]:
        return [record.payload for record in SqliteStore(self.data / "records.sqlite3").records()]

    def audit_actions(self) -> list[tuple[str, str]]:
        store = SqliteStore(self.data / "records.sqlite3")
        return [(entry.action, entry.outcome) for entry in read_audit(store)]


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    for name, value in BATCH_ENV.items():
        monkeypatch.setenv(name, value)
    made = Bench(tmp_path)
    yield made
    made.unit.stop()


def test_a_production_station_without_accounts_refuses_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = Bench(tmp_path, simulated=False)
    try:
        assert bench.station("run", None) == 2
    finally:
        bench.unit.stop()
    assert "station users add BADGE --name NAME --role admin" in capsys.readouterr().err
    assert not bench.records()


def test_a_station_with_accounts_needs_a_login(bench: Bench, capsys: pytest.CaptureFixture[str]) -> None:
    bench.accounts()
    assert bench.station("run", None) == 2
    assert "--operator BADGE" in capsys.readouterr().err


def test_records_name_the_logged_in_operator_and_role(bench: Bench) -> None:
    bench.accounts()
    assert bench.station("run", "B0042") == 0
    (record,) = bench.records()
    assert record["operator"] == {"id": "B0042", "role": "operator"}
    assert ("login", "ok") in bench.audit_actions()
    assert ("mode-change", "ok") in bench.audit_actions()


def test_an_operator_may_not_run_rma_and_the_refusal_is_audited(
    bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.accounts()
    assert bench.station("rma", "B0042", "--accept-unknown") == 2
    err = capsys.readouterr().err
    assert "B0042" in err and "operator" in err and "rma" in err
    assert ("permission-refused", "refused") in bench.audit_actions()
    assert not bench.records()  # nothing touched the unit


def test_qa_then_rma_over_the_command_line(bench: Bench) -> None:
    bench.accounts()
    assert bench.station("run", "B0042") == 0
    assert bench.station("qa", "Q0007") == 0
    passphrase = bench.folder / "customer.txt"
    passphrase.write_text(BATCH_PASSPHRASE + "\n", encoding="utf-8")
    passphrase.chmod(0o600)
    assert bench.station("rma", "R0009", "--passphrase-file", str(passphrase)) == 0
    production, qa, rma = bench.records()
    assert qa["mode"] == "qa" and qa["links"]["verifies"] == production["record_id"]
    assert qa["operator"] == {"id": "Q0007", "role": "qa"}
    assert rma["mode"] == "rma" and rma["links"]["supersedes"] == production["record_id"]
    assert rma["outcome"] == "pass", rma["failure"]
    assert BATCH_PASSPHRASE not in str(bench.records()) + str(bench.audit_actions())


def test_a_passphrase_file_others_can_read_is_refused(
    bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.accounts()
    passphrase = bench.folder / "customer.txt"
    passphrase.write_text("secret words\n", encoding="utf-8")
    passphrase.chmod(0o644)
    assert bench.station("rma", "R0009", "--passphrase-file", str(passphrase)) == 2
    err = capsys.readouterr().err
    assert f"run chmod 600 {passphrase}" in err and "secret words" not in err
