"""Accounts do not follow ``--data`` (issue 15): a production station's commands on other data than its own.

A production station (``simulated = false``) keeps its accounts in its configured data directory. Other
data (``--data``, ``--store``) is opened only after an admin of the station logged in against the
station's own accounts, and no first admin is ever created there; reading records and the audit log of
other data stays open to anyone, as it is for the station's own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from station.access.audit import AuditLog, read_audit
from station.access.pins import Pin
from station.access.users import User, UserStore
from station.app.data import StationData
from station.cli.login import operator_for_mode
from station.cli.main import main
from station.core.config import load
from station.core.errors import AccessError
from station.core.operator import Operator
from station.records.store.sqlite import SqliteStore
from tests.access.conftest import ADMIN_PIN, OPERATOR_PIN

NOT_HOME = "is not this production station's data directory"


class Station:
    """A folder with a station.toml (``simulated`` as given), its data directory ``data`` and PIN files."""

    def __init__(self, folder: Path, *, simulated: bool = False) -> None:
        self.folder, self.data = folder, folder / "data"
        self.config = folder / "station.toml"
        folder.mkdir()
        flag = "true" if simulated else "false"
        self.config.write_text(f'[station]\nid = "st01"\ndata_dir = "data"\nsimulated = {flag}\n')
        for name, pin in (("admin.pin", ADMIN_PIN), ("op.pin", OPERATOR_PIN), ("me.pin", "730164")):
            (folder / name).write_text(pin + "\n")
            (folder / name).chmod(0o600)

    def pin(self, name: str) -> str:
        return str(self.folder / name)

    def users(self, *words: str, login: str | None = None, pin: str = "admin.pin") -> int:
        as_whom = ["--operator", login, "--operator-pin-file", self.pin(pin)] if login else []
        return main(["users", *words, "--config", str(self.config), *as_whom])

    def add_me(self, *where: str, login: str | None = None, pin: str = "admin.pin") -> int:
        """The attack of the issue: a new admin ME in other data, with or without a login."""
        words = ["add", "ME", "--name", "Me", "--role", "admin", "--pin-file", self.pin("me.pin"), *where]
        return self.users(*words, login=login, pin=pin)

    def with_accounts(self) -> Station:
        assert (
            self.users(
                "add", "A0001", "--name", "Ada", "--role", "admin", "--pin-file", self.pin("admin.pin")
            )
            == 0
        )
        words = ["add", "B0042", "--name", "Bo", "--role", "operator", "--pin-file", self.pin("op.pin")]
        assert self.users(*words, login="A0001") == 0
        return self

    def home_audit(self) -> list[tuple[str | None, str, str, dict[str, object]]]:
        entries = read_audit(SqliteStore(self.data / "records.sqlite3", create=False))
        return [(entry.actor_id, entry.action, entry.outcome, dict(entry.detail)) for entry in entries]


@pytest.fixture
def station(tmp_path: Path) -> Station:
    return Station(tmp_path / "st01")


def test_the_first_admin_is_created_in_the_configured_data_directory(station: Station) -> None:
    station.with_accounts()
    assert [user.badge for user in _users(station.data)] == ["A0001", "B0042"]


def test_a_new_admin_in_a_fresh_directory_needs_a_login_and_creates_nothing(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    fresh = tmp_path / "fresh"
    assert station.add_me("--data", str(fresh)) == 2
    err = capsys.readouterr().err
    assert NOT_HOME in err and str(station.data) in err and "--operator BADGE" in err
    assert not fresh.exists()


def test_a_production_station_without_accounts_lets_nobody_open_other_data(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh"
    assert station.add_me("--data", str(fresh), login="ME", pin="me.pin") == 2
    assert "the station has no accounts yet" in capsys.readouterr().err
    assert not fresh.exists() and not station.data.exists()


def test_even_an_admin_of_the_station_never_bootstraps_accounts_elsewhere(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    fresh = tmp_path / "fresh"
    assert station.add_me("--data", str(fresh), login="A0001") == 2  # the station lets A0001 in;
    assert "no account for this badge" in capsys.readouterr().err  # the fresh data has no A0001
    assert _users(fresh) == []
    login = station.home_audit()[-1]
    assert login[:3] == ("A0001", "login", "ok") and login[3]["elsewhere"] == str(fresh)


def test_an_operator_of_the_station_may_not_open_other_data_and_the_refusal_is_audited(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    fresh = tmp_path / "fresh"
    assert station.add_me("--data", str(fresh), login="B0042", pin="op.pin") == 2
    assert "B0042 (role operator) may not data.elsewhere" in capsys.readouterr().err
    refusal = station.home_audit()[-1]
    assert refusal[:3] == ("B0042", "permission-refused", "refused")
    assert refusal[3]["action"] == "data.elsewhere" and refusal[3]["data"] == str(fresh)
    assert not fresh.exists()


def test_another_store_file_is_other_data_too(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    other = tmp_path / "other.sqlite3"
    assert station.add_me("--store", str(other)) == 2
    assert NOT_HOME in capsys.readouterr().err and not other.exists()
    assert station.add_me("--store", str(other), login="A0001") == 2
    assert _users(other) == []


def test_home_by_another_spelling_is_home(station: Station) -> None:
    spelled = station.folder / "data" / ".." / "data"
    words = ["add", "A0001", "--name", "Ada", "--role", "admin", "--pin-file", station.pin("admin.pin")]
    assert station.users(*words, "--data", str(spelled)) == 0
    assert station.users("list", "--store", str(station.data / "records.sqlite3"), login="A0001") == 0


def test_a_development_station_bootstraps_anywhere(tmp_path: Path) -> None:
    station = Station(tmp_path / "dev", simulated=True)
    fresh = tmp_path / "fresh"
    assert station.add_me("--data", str(fresh)) == 0
    assert [user.badge for user in _users(fresh)] == ["ME"]


def test_users_list_of_other_data_needs_the_station_admin_then_that_data_admin(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    other = tmp_path / "other"
    users = _open_users(other, bootstrap=True)
    users.add("A0001", "Ada Elsewhere", "admin", Pin(ADMIN_PIN), by=None)
    assert station.users("list", "--data", str(other)) == 2
    assert NOT_HOME in capsys.readouterr().err
    assert station.users("list", "--data", str(other), login="A0001") == 0
    assert "Ada Elsewhere" in capsys.readouterr().out


def test_reading_records_and_the_audit_log_of_other_data_needs_no_login(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    other = tmp_path / "other"
    _open_users(other, bootstrap=True).add("A0001", "Ada", "admin", Pin(ADMIN_PIN), by=None)
    config = str(station.config)
    assert main(["records", "verify", "--config", config, "--data", str(other)]) == 0
    assert main(["records", "export", "--config", config, "--data", str(other)]) == 0
    assert main(["audit", "show", "--config", config, "--data", str(other)]) == 0
    assert NOT_HOME not in capsys.readouterr().err


def test_records_sync_of_other_data_needs_an_admin_of_the_station(
    station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station.with_accounts()
    line = "postgresql://station@127.0.0.1:1/line"  # never reached: the refusal comes first
    sync = ["records", "sync", "--config", str(station.config), "--data", str(tmp_path / "other")]
    assert main([*sync, "--store", line]) == 2
    assert NOT_HOME in capsys.readouterr().err
    as_operator = ["--operator", "B0042", "--pin-file", station.pin("op.pin")]
    assert main([*sync, "--store", line, *as_operator]) == 2
    assert "may not data.elsewhere" in capsys.readouterr().err


def test_a_mode_on_other_data_logs_in_at_home_then_there_with_one_pin(
    station: Station, tmp_path: Path
) -> None:
    station.with_accounts()
    other = tmp_path / "other"
    _open_users(other, bootstrap=True).add("A0001", "Ada", "admin", Pin(ADMIN_PIN), by=None)
    asked: list[str] = []

    def terminal(prompt: str) -> str:
        asked.append(prompt)
        return ADMIN_PIN

    args = argparse.Namespace(operator="A0001", operator_pin_file=None)
    operator = operator_for_mode(args, load(station.config), other, "production", read_pin=terminal)
    assert operator == Operator("A0001", "admin") and asked == ["PIN for A0001: "]
    assert station.home_audit()[-1][1:3] == ("login", "ok")
    assert [entry.action for entry in read_audit(SqliteStore(other / "records.sqlite3"))][-2:] == [
        "login",
        "mode-change",
    ]


def test_a_mode_on_a_fresh_directory_is_refused_even_for_the_station_admin(
    station: Station, tmp_path: Path
) -> None:
    station.with_accounts()
    args = argparse.Namespace(operator="A0001", operator_pin_file=station.pin("admin.pin"))
    with pytest.raises(AccessError, match="a production station needs operator accounts"):
        operator_for_mode(args, load(station.config), tmp_path / "fresh", "production")
    args = argparse.Namespace(operator=None, operator_pin_file=None)
    with pytest.raises(AccessError, match=NOT_HOME):
        operator_for_mode(args, load(station.config), tmp_path / "fresh", "production")


def test_a_user_store_without_bootstrap_adds_no_first_admin(tmp_path: Path) -> None:
    users = _open_users(tmp_path / "other", bootstrap=False)
    assert not users.needs_bootstrap()
    with pytest.raises(AccessError, match="first admin is created only"):
        users.add("ME", "Me", "admin", Pin("730164"), by=None)
    assert users.list() == []


def _open_users(where: Path, *, bootstrap: bool) -> UserStore:
    """The accounts of a data directory, or of a store file (``*.sqlite3``) with its folder's key."""
    if where.suffix == ".sqlite3":
        data = StationData(where.parent, store_file=where, create=True)
    else:
        data = StationData(where, create=True)
    return UserStore(AuditLog(data.store(), data.signing_key()), bootstrap=bootstrap)


def _users(where: Path) -> list[User]:
    return _open_users(where, bootstrap=True).list()
