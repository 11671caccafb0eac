"""Who runs a command: the operator login the mode and account verbs share, and the station's accounts.

>>> import argparse; parser = argparse.ArgumentParser(prog="station qa"); add_login_arguments(parser)
>>> args = parser.parse_args(["--pin-file", "q.pin"])      # a PIN is never an argument: a file or getpass
>>> login_from_args(args, data=None)
Traceback (most recent call last):
station.core.errors.AccessError: this command needs a login: --operator BADGE (PIN from the terminal or ...)
"""

from __future__ import annotations

import argparse
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from station.access.pinentry import PinReader, ask_pin, read_pin_file
from station.core.errors import AccessError

if TYPE_CHECKING:
    from station.access.audit import AuditLog
    from station.access.pins import Pin
    from station.access.users import UserStore
    from station.app.data import StationData
    from station.core.config import StationConfig
    from station.core.operator import Operator

DEVELOPMENT_BADGE = "development"  # records of a simulated station with no accounts name this operator


def add_login_arguments(parser: argparse.ArgumentParser, *, pin_flag: str = "--pin-file") -> None:
    """``--operator BADGE`` and ``--pin-file FILE`` (or ``pin_flag``): who runs this command."""
    parser.add_argument("--operator", metavar="BADGE", help="log in with this badge (PIN from the terminal)")
    parser.add_argument(
        pin_flag, dest="operator_pin_file", metavar="FILE", help="read the operator's PIN from this file"
    )


@dataclass(frozen=True)
class Access:
    """The station's accounts and audit log, signed with the record-signing key."""

    audit: AuditLog
    users: UserStore


def open_access(data: StationData) -> Access:
    """Accounts and audit log of ``data`` (its store is created on a new station when ``data.create``)."""
    from station.access.audit import AuditLog
    from station.access.users import UserStore

    audit = AuditLog(data.store(), data.signing_key())
    return Access(audit, UserStore(audit))


def login_from_args(
    args: argparse.Namespace, data: StationData, *, read_pin: PinReader = getpass.getpass
) -> Operator:
    """The operator ``--operator`` names, after a PIN login (audited); AccessError when none is given."""
    if not getattr(args, "operator", None):
        raise AccessError(
            "this command needs a login: --operator BADGE (PIN from the terminal or --pin-file)"
        )
    return open_access(data).users.authenticate(args.operator, login_pin(args, read_pin), face="cli")


def login_pin(args: argparse.Namespace, read_pin: PinReader) -> Pin:
    """The PIN of ``--operator``: from ``--pin-file`` (or its alias) or asked on the terminal."""
    if args.operator_pin_file:
        return read_pin_file(Path(args.operator_pin_file))
    return ask_pin(f"PIN for {args.operator}: ", read_pin)


def operator_for_mode(
    args: argparse.Namespace,
    config: StationConfig,
    data_dir: Path,
    mode: str,
    *,
    read_pin: PinReader = getpass.getpass,
) -> Operator:
    """The logged-in operator allowed to run ``mode`` (login and mode change audited; refusals too).

    A station with accounts needs ``--operator`` and the PIN. A development station (``simulated = true``)
    with no accounts yet runs as the ``development`` operator, so demos and tests need no login; a
    production station without accounts is refused, saying how to create the first one.
    """
    from station.access.session import OperatorSession
    from station.app.data import StationData
    from station.core.operator import Operator

    access = open_access(StationData.open(config, data_dir=data_dir, create=True))
    if not access.users.list():
        if config.station.simulated:
            return Operator(DEVELOPMENT_BADGE, "operator")
        raise AccessError(
            "a production station needs operator accounts: create the first admin with "
            "station users add BADGE --name NAME --role admin"
        )
    if not getattr(args, "operator", None):
        raise AccessError(
            f"{mode} needs a login: --operator BADGE (PIN from the terminal or --pin-file FILE)"
        )
    session = OperatorSession(access.users, face="cli")
    session.login(args.operator, login_pin(args, read_pin))
    return session.change_mode(mode)
