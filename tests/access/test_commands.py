"""The command functions in-process: the reusable login, a fake terminal, and no PIN in any output.

The no-secrets test uses 12-digit PINs, so a PIN found in the database bytes cannot be a coincidence of
random salt and signature text.
"""

from __future__ import annotations

import argparse
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.access.audit import read_audit
from station.app.data import StationData
from station.cli import audit, login, users
from station.core.errors import AccessError, StationError
from station.core.operator import Operator
from station.records import jws
from station.records.store.sqlite import SqliteStore
from tests.access.conftest import ADMIN_PIN, OPERATOR_PIN


def terminal(*answers: str) -> Callable[[str], str]:
    """A fake ``getpass``: hands out ``answers`` in order and remembers the prompts."""
    pending: Iterator[str] = iter(answers)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(pending)

    read.prompts = prompts  # type: ignore[attr-defined]
    return read


@pytest.fixture
def where(tmp_path: Path) -> StationData:
    return StationData.open(None, data_dir=tmp_path / "data", create=True)


def users_args(badge: str | None = None, **values: object) -> argparse.Namespace:
    base = {"badge": badge, "operator": None, "operator_pin_file": None, "pin_file": None, "config": None}
    return argparse.Namespace(**{**base, **values})


def add(where: StationData, badge: str, role: str, read: Callable[[str], str], **login: object) -> None:
    args = users_args(badge, name=f"{role} {badge}", role=role, **login)
    assert users.users_add(args, where, read_pin=read, out=io.StringIO()) == 0


def test_a_new_pin_is_asked_twice_and_two_different_answers_change_nothing(where: StationData) -> None:
    read = terminal(ADMIN_PIN, "482914")
    with pytest.raises(AccessError, match="the two PINs differ; nothing was changed"):
        add(where, "A0001", "admin", read)
    assert read.prompts == ["new PIN for A0001: ", "new PIN for A0001 again: "]  # type: ignore[attr-defined]
    add(where, "A0001", "admin", terminal(ADMIN_PIN, ADMIN_PIN))


def test_login_from_args_is_the_login_other_commands_reuse(where: StationData) -> None:
    add(where, "A0001", "admin", terminal(ADMIN_PIN, ADMIN_PIN))
    add(where, "B0042", "operator", terminal(ADMIN_PIN, OPERATOR_PIN, OPERATOR_PIN), operator="A0001")
    parser = argparse.ArgumentParser()
    login.add_login_arguments(parser)
    args = parser.parse_args(["--operator", "B0042"])
    read = terminal(OPERATOR_PIN)
    assert login.login_from_args(args, where, read_pin=read) == Operator("B0042", "operator")
    assert read.prompts == ["PIN for B0042: "]  # type: ignore[attr-defined]
    entry = read_audit(SqliteStore(where.store_path))[-1]
    assert (entry.actor_id, entry.action, entry.detail) == ("B0042", "login", {"face": "cli"})
    with pytest.raises(AccessError, match="this command needs a login: --operator BADGE"):
        login.login_from_args(parser.parse_args([]), where)


def test_an_interrupted_pin_entry_is_a_clean_error(where: StationData) -> None:
    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(AccessError, match="no PIN entered"):
        add(where, "A0001", "admin", interrupted)


ADMIN_12, OPERATOR_12, WRONG_12 = "740385162937", "602918374651", "918273645501"


def test_no_pin_ever_appears_in_audit_logs_exceptions_or_the_database(
    where: StationData, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    add(where, "A0001", "admin", terminal(ADMIN_12, ADMIN_12))
    add(where, "B0042", "operator", terminal(ADMIN_12, OPERATOR_12, OPERATOR_12), operator="A0001")
    for _ in range(6):  # wrong PINs up to the lock, then a refusal while locked
        try:
            login.login_from_args(users_args(operator="B0042"), where, read_pin=terminal(WRONG_12))
        except StationError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    try:
        login.login_from_args(users_args(operator=WRONG_12), where, read_pin=terminal(WRONG_12))
    except StationError as exc:  # a PIN typed into the badge field
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    out = io.StringIO()
    users.users_list(users_args(operator="A0001"), where, read_pin=terminal(ADMIN_12), out=out)
    audit.audit_show(argparse.Namespace(last=None, verify=True), where, out=out)
    texts += [out.getvalue(), caplog.text]
    texts += [f"{entry} {jws.peek(entry.jws)}" for entry in read_audit(SqliteStore(where.store_path))]
    files = b"".join(path.read_bytes() for path in where.data_dir.glob("records.sqlite3*"))
    assert "OK: every audit entry verifies" in out.getvalue()
    assert "login-failed" in out.getvalue() and "locked" in out.getvalue()
    for pin in (ADMIN_12, OPERATOR_12, WRONG_12):
        assert all(pin not in text for text in texts), pin
        assert pin.encode() not in files, pin
