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
    """Accounts and audit log of ``data`` (its store is created on a new station when ``data.create``).

    Away from a production station's home (``data.home``) no first admin is created without a login.
    """
    from station.access.audit import AuditLog
    from station.access.users import UserStore

    audit = AuditLog(data.store(), data.signing_key())
    return Access(audit, UserStore(audit, bootstrap=data.home is None))


def admit_elsewhere(
    args: argparse.Namespace, data: StationData, *, read_pin: PinReader = getpass.getpass
) -> None:
    """Return when ``data`` is the station's own (or there is no production station to guard); when a
    production station's command names other data (``--data``, ``--store``: ``data.home`` is set), return
    only after an admin of the station logged in with ``--operator`` against the station's own accounts;
    the login and any refusal are audited in the station's own log, naming the other data. AccessError
    otherwise.

    Reading records (``records show|verify|export``) and the audit log (``audit show|verify``) of other
    data needs no login and does not come here: they change nothing, and a copied data directory is
    checked exactly that way.
    """
    from station.access.session import OperatorSession
    from station.app.data import StationData

    if data.home is None:
        return
    where = str(data.store_file or data.data_dir)
    if not getattr(args, "operator", None):
        raise AccessError(
            f"{where} is not this production station's data directory ({data.home}): only an admin "
            "of this station may open it: --operator BADGE (PIN from the terminal or a PIN file)"
        )
    home = StationData(data.home, keys=data.keys, base_dir=data.base_dir, environ=data.environ)
    if not home.store_path.is_file():
        raise AccessError(
            f"{where} is not this production station's data directory ({data.home}), and the station "
            "has no accounts yet: no admin of this station can open it"
        )
    session = OperatorSession(open_access(home).users, face="cli")
    session.login(args.operator, login_pin(args, read_pin), detail={"elsewhere": where})
    session.require("data.elsewhere", {"data": where})


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
    """The PIN of ``--operator``: from ``--pin-file`` (or its alias) or asked on the terminal, once per
    command (kept in ``args``: a command on other data logs in at home first, then there)."""
    known: Pin | None = getattr(args, "operator_pin", None)
    if known is None:
        if args.operator_pin_file:
            known = read_pin_file(Path(args.operator_pin_file))
        else:
            known = ask_pin(f"PIN for {args.operator}: ", read_pin)
        args.operator_pin = known
    return known


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
    production station without accounts is refused, saying how to create the first one. Other data than a
    production station's own needs an admin of the station first (``admit_elsewhere``).
    """
    from station.access.session import OperatorSession
    from station.app.data import StationData
    from station.core.operator import Operator

    data = StationData.open(config, data_dir=data_dir, create=True)
    admit_elsewhere(args, data, read_pin=read_pin)
    access = open_access(data)
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
