"""``station users`` and ``station audit`` as an admin runs them: PINs from files and from a terminal."""

from __future__ import annotations

import fcntl
import os
import select
import shlex
import shutil
import sqlite3
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.access.conftest import ADMIN_PIN, OPERATOR_PIN

REPO = Path(__file__).resolve().parents[2]
PROMPT_WAIT = 60.0  # seconds a prompt may take to appear on a loaded machine (a bound, not a delay)
AS_ADMIN = "--data data --operator A0001 --operator-pin-file admin.pin"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def station(command: str, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``station <command>`` (shell words) in ``cwd``."""
    argv = [sys.executable, "-m", "station.cli.main", *shlex.split(command)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV, check=False)


def pin_file(folder: Path, name: str, pin: str, mode: int = 0o600) -> Path:
    path = folder / name
    path.write_text(f"{pin}\n")
    path.chmod(mode)
    return path


@pytest.fixture
def station_dir(tmp_path: Path) -> Path:
    """A station with the bootstrap admin A0001 and an operator B0042, both added over the CLI."""
    pin_file(tmp_path, "admin.pin", ADMIN_PIN)
    pin_file(tmp_path, "new.pin", OPERATOR_PIN)
    first = station(
        "users add A0001 --name 'Ada Admin' --role admin --pin-file admin.pin --data data", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "added A0001 (Ada Admin), role admin"
    second = station(
        f"users add B0042 --name 'Bo Operator' --role operator --pin-file new.pin {AS_ADMIN}", cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    return tmp_path


def test_users_add_list_and_disable_over_the_command_line(station_dir: Path) -> None:
    listed = station(f"users list {AS_ADMIN}", cwd=station_dir)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "badge  name         role      state",
        "A0001  Ada Admin    admin     enabled",
        "B0042  Bo Operator  operator  enabled",
    ]
    disabled = station(f"users disable B0042 {AS_ADMIN}", cwd=station_dir)
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stdout.strip() == "disable: B0042 (Bo Operator) is now disabled"
    assert (
        "B0042  Bo Operator  operator  disabled" in station(f"users list {AS_ADMIN}", cwd=station_dir).stdout
    )
    enabled = station(f"users enable B0042 {AS_ADMIN}", cwd=station_dir)
    assert enabled.stdout.strip() == "enable: B0042 (Bo Operator) is now enabled"


def test_users_commands_need_an_admin_login_once_an_admin_exists(station_dir: Path) -> None:
    nobody = station("users list --data data", cwd=station_dir)
    assert nobody.returncode == 2
    assert nobody.stderr.strip() == "station: permission denied: nobody is logged in may not users.manage"
    pin_file(station_dir, "op.pin", OPERATOR_PIN)
    as_operator = station(
        "users disable A0001 --data data --operator B0042 --operator-pin-file op.pin", cwd=station_dir
    )
    assert as_operator.returncode == 2
    assert "B0042 (role operator) may not users.manage" in as_operator.stderr
    pin_file(station_dir, "wrong.pin", "111112")
    wrong = station("users list --data data --operator A0001 --operator-pin-file wrong.pin", cwd=station_dir)
    assert wrong.returncode == 2
    assert (
        wrong.stderr.strip() == "station: login refused: wrong PIN for A0001 (4 attempts left before a lock)"
    )
    shown = station("audit show --data data", cwd=station_dir).stdout
    assert "permission-refused" in shown and "login-failed" in shown


def test_a_pin_file_must_be_private_and_hold_a_good_pin(station_dir: Path) -> None:
    pin_file(station_dir, "shared.pin", ADMIN_PIN, mode=0o644)
    refused = station(
        "users list --data data --operator A0001 --operator-pin-file shared.pin", cwd=station_dir
    )
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == "station: PIN file shared.pin is readable by others (mode 644); run chmod 600 shared.pin"
    )
    pin_file(station_dir, "weak.pin", "123456")
    added = station(f"users add C0001 --name Cy --role qa --pin-file weak.pin {AS_ADMIN}", cwd=station_dir)
    assert added.returncode == 2
    assert added.stderr.strip() == "station: a PIN cannot be a straight run of digits, up or down"
    missing = station("users list --data data --operator A0001 --operator-pin-file nope.pin", cwd=station_dir)
    assert missing.stderr.strip() == "station: cannot read the PIN file nope.pin: No such file or directory"


def test_audit_show_and_verify_and_a_tampered_copy(station_dir: Path, tmp_path: Path) -> None:
    shown = station("audit show --data data --verify", cwd=station_dir)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["seq", "time", "actor", "role", "action", "outcome", "detail"]
    assert lines[1].split()[2:6] == ["A0001", "admin", "user-add", "ok"]
    assert "OK: every audit entry verifies" in shown.stdout
    copy = tmp_path / "copy"
    shutil.copytree(station_dir / "data", copy)
    with sqlite3.connect(copy / "records.sqlite3") as connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute("UPDATE audit_log SET action = 'logout' WHERE seq = 2")
    verified = station(f"audit verify --data {copy}", cwd=station_dir)
    assert verified.returncode == 1
    assert "FAILED: first broken entry: seq 2: stored action differ from the signed entry" in verified.stdout
    empty = station(f"audit verify --data {tmp_path / 'none'}", cwd=station_dir)
    assert empty.returncode == 2 and "no record store" in empty.stderr


def read_until(master: int, text: bytes, seen: bytearray) -> None:
    """Read the terminal until ``text`` has appeared (waits on the descriptor, never sleeps)."""
    while text not in seen:
        ready, _, _ = select.select([master], [], [], PROMPT_WAIT)
        assert ready, f"no {text!r} on the terminal; got {bytes(seen)!r}"
        seen += os.read(master, 4096)


def make_controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_pins_typed_on_a_terminal_are_asked_twice_and_never_echoed(tmp_path: Path) -> None:
    master, terminal = os.openpty()
    argv = [
        sys.executable,
        "-m",
        "station.cli.main",
        *shlex.split("users add A0001 --name Ada --role admin --data data"),
    ]
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=ENV,
        start_new_session=True,
        preexec_fn=make_controlling_terminal,  # noqa: PLW1509 - getpass reads the controlling terminal
    )
    os.close(terminal)
    seen = bytearray()
    try:
        read_until(master, b"new PIN for A0001: ", seen)
        os.write(master, f"{ADMIN_PIN}\n".encode())
        read_until(master, b"new PIN for A0001 again: ", seen)
        os.write(master, f"{ADMIN_PIN}\n".encode())
        read_until(master, b"added A0001 (Ada), role admin", seen)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()
        os.close(master)
    assert ADMIN_PIN.encode() not in seen
    pin_file(tmp_path, "admin.pin", ADMIN_PIN)
    login = station(f"users list {AS_ADMIN}", cwd=tmp_path)
    assert login.returncode == 0 and "A0001  Ada  admin     enabled" in login.stdout


def test_an_operator_sets_their_own_pin_and_an_admin_resets_it(station_dir: Path) -> None:
    pin_file(station_dir, "op.pin", OPERATOR_PIN)
    pin_file(station_dir, "mine.pin", "613370")
    own = station(
        "users set-pin B0042 --pin-file mine.pin --data data --operator B0042 --operator-pin-file op.pin",
        cwd=station_dir,
    )
    assert own.returncode == 0, own.stderr
    assert own.stdout.strip() == "set-pin: B0042 (Bo Operator) has a new PIN"
    other = station(
        "users set-pin A0001 --pin-file mine.pin --data data --operator B0042 --operator-pin-file mine.pin",
        cwd=station_dir,
    )
    assert other.returncode == 2 and "may not users.manage" in other.stderr
    reset = station(f"users set-pin B0042 --pin-file op.pin {AS_ADMIN}", cwd=station_dir)
    assert reset.returncode == 0, reset.stderr
