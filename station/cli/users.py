"""``station users add|list|disable|enable|set-pin``: operator accounts, managed by an admin.

>>> import argparse, tempfile; from station.app.data import StationData
>>> args = argparse.Namespace(badge="A0001", name="Ada", role="admin", pin_file=None, operator=None)
>>> with tempfile.TemporaryDirectory() as folder:          # a new station: the first account is an admin
...     users_add(args, StationData(Path(folder), create=True), read_pin=lambda prompt: "428613")
added A0001 (Ada), role admin
0
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from station.access.pinentry import PinReader, ask_new_pin, read_pin_file
from station.cli.login import add_login_arguments, admit_elsewhere, login_pin, open_access
from station.cli.options import Subparsers, station_data, store_arguments

if TYPE_CHECKING:
    from station.access.pins import Pin
    from station.access.session import OperatorSession
    from station.access.users import User
    from station.app.data import StationData

UsersCommand = Callable[[argparse.Namespace, "StationData"], int]


def add_parser(commands: Subparsers) -> None:
    users = commands.add_parser("users", help="operator accounts").add_subparsers(title="users commands")
    add = _users_parser(users, "add", "add an account (PIN asked twice, or --pin-file)")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, help="operator | qa | rma | admin")
    add.add_argument("--pin-file", help="file whose first line is the new account's PIN (chmod 600)")
    add.set_defaults(handler=_on_station(users_add))
    listing = _users_parser(users, "list", "list the accounts", badge=False)
    listing.set_defaults(handler=_on_station(users_list))
    changes = (
        ("disable", "refuse this account's logins"),
        ("enable", "allow logins again, clear a lock"),
        ("set-pin", "set a new PIN (asked twice, or --pin-file)"),
    )
    for verb, text in changes:
        sub = _users_parser(users, verb, text)
        if verb == "set-pin":
            sub.add_argument("--pin-file", help="file whose first line is the new PIN (chmod 600)")
        sub.set_defaults(handler=_on_station(users_change), verb=verb)


def _users_parser(users: Subparsers, verb: str, text: str, *, badge: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = users.add_parser(verb, help=text)
    if badge:
        parser.add_argument("badge", help="badge id")
    store_arguments(parser)
    add_login_arguments(parser, pin_flag="--operator-pin-file")
    return parser


def _on_station(command: UsersCommand) -> Callable[[argparse.Namespace], int]:
    """``command`` on the station the options name (its store created on a new station); other data than
    a production station's own only for an admin of the station (``admit_elsewhere``)."""

    def on_station(args: argparse.Namespace) -> int:
        data = station_data(args)
        admit_elsewhere(args, data)
        return command(args, replace(data, create=True))

    return on_station


def _session(args: argparse.Namespace, data: StationData, read_pin: PinReader) -> OperatorSession:
    from station.access.session import OperatorSession

    session = OperatorSession(open_access(data).users, face="cli")
    if args.operator:
        session.login(args.operator, login_pin(args, read_pin))
    return session


def _new_pin(args: argparse.Namespace, read_pin: PinReader) -> Pin:
    return read_pin_file(Path(args.pin_file)) if args.pin_file else ask_new_pin(args.badge, read_pin)


def users_add(
    args: argparse.Namespace,
    data: StationData,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    session = _session(args, data, read_pin)
    user = session.users.add(args.badge, args.name, args.role, _new_pin(args, read_pin), by=session.operator)
    print(f"added {user.badge} ({user.name}), role {user.role}", file=out or sys.stdout)
    return 0


def users_list(
    args: argparse.Namespace,
    data: StationData,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    session = _session(args, data, read_pin)
    if not session.users.needs_bootstrap():
        session.require("users.manage", {"attempted": "user-list"})
    print(format_users(session.users.list()), file=out or sys.stdout)
    return 0


def users_change(
    args: argparse.Namespace,
    data: StationData,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    """``users disable|enable|set-pin BADGE``: the verb is ``args.verb``."""
    session = _session(args, data, read_pin)
    users = session.users
    if args.verb == "set-pin" and session.operator is not None and session.operator.id == args.badge:
        user = users.set_pin(args.badge, _new_pin(args, read_pin), by=session.operator)
    else:
        admin = session.require("users.manage", {"attempted": f"user-{args.verb}", "badge": args.badge})
        if args.verb == "set-pin":
            user = users.set_pin(args.badge, _new_pin(args, read_pin), by=admin)
        else:
            user = (users.disable if args.verb == "disable" else users.enable)(args.badge, by=admin)
    done = "has a new PIN" if args.verb == "set-pin" else f"is now {_state(user)}"
    print(f"{args.verb}: {user.badge} ({user.name}) {done}", file=out or sys.stdout)
    return 0


def format_users(users: list[User]) -> str:
    if not users:
        return "no accounts yet (the first one must be an admin: station users add BADGE --role admin ...)"
    width = max(len(user.badge) for user in users)
    names = max(len(user.name) for user in users)
    lines = [f"{'badge':<{width}}  {'name':<{names}}  {'role':<8}  state"]
    for user in users:
        lines.append(f"{user.badge:<{width}}  {user.name:<{names}}  {user.role:<8}  {_state(user)}")
    return "\n".join(lines)


def _state(user: User) -> str:
    if user.disabled:
        return "disabled"
    if user.locked_until is not None and datetime.fromisoformat(user.locked_until) > datetime.now(UTC):
        return f"enabled ({user.failed_logins} failed logins, locked until {user.locked_until})"
    return "enabled" if not user.failed_logins else f"enabled ({user.failed_logins} failed logins)"
