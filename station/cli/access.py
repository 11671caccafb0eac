"""``station users ...`` and ``station audit ...``, and the operator login other commands reuse.

Example::

    station users add A0001 --name "Ada Admin" --role admin              # bootstrap: PIN asked twice
    station users add B0042 --name "Bo" --role operator --pin-file new.pin \\
        --operator A0001 --operator-pin-file admin.pin
    station users list --operator A0001                                  # admin PIN from the terminal
    station audit show --last 20 --verify
    station audit verify --data station-data

    add_login_arguments(parser)                       # --operator BADGE, --pin-file FILE (station run ...)
    operator = login_from_args(args, locations)       # Operator, audited; LoginRefused otherwise

A PIN is never a command-line argument (it would sit in the shell history and in ``ps``): it comes from
the terminal (``getpass``, without echo; a new PIN twice) or from the first line of a file that only its
owner can read. ``users add`` takes the new account's PIN with ``--pin-file``, so the admin's own login
on the users commands is ``--operator BADGE`` with ``--operator-pin-file``. Managing accounts needs an
admin login except on a station without an enabled admin, where the first account (an admin) is the
bootstrap. ``audit show`` and ``audit verify`` need no login, like ``records show``: reading the
station's database is guarded by the file system; the GUI view is guarded by ``audit.view``. A CLI
login is audited as ``login`` with ``face: cli``; it lasts one command, so no ``logout`` follows.
Heavy imports stay inside the functions: ``station --help`` must not load the database code.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from station.access.pinentry import PinReader, ask_new_pin, ask_pin, read_pin_file
from station.core.errors import AccessError
from station.core.operator import Operator

if TYPE_CHECKING:
    from station.access.audit import AuditEntry, AuditLog
    from station.access.pins import Pin
    from station.access.session import OperatorSession
    from station.access.users import User, UserStore
    from station.cli.commands import Locations
    from station.core.config import StationConfig

AccessCommand = Callable[[argparse.Namespace, "Locations"], int]


def add_login_arguments(parser: argparse.ArgumentParser, *, pin_flag: str = "--pin-file") -> None:
    """``--operator BADGE`` and ``--pin-file FILE`` (or ``pin_flag``): who runs this command."""
    parser.add_argument("--operator", metavar="BADGE", help="log in with this badge (PIN from the terminal)")
    parser.add_argument(
        pin_flag, dest="operator_pin_file", metavar="FILE", help="read the operator's PIN from this file"
    )


def login_from_args(
    args: argparse.Namespace, locations: Locations, *, read_pin: PinReader = getpass.getpass
) -> Operator:
    """The operator ``--operator`` names, after a PIN login (audited); AccessError when none is given."""
    if not getattr(args, "operator", None):
        raise AccessError(
            "this command needs a login: --operator BADGE (PIN from the terminal or --pin-file)"
        )
    access = open_access(locations, base_dir=_base_dir(args))
    return access.users.authenticate(args.operator, _login_pin(args, read_pin), face="cli")


@dataclass(frozen=True)
class Access:
    """The station's accounts and audit log, opened from the command line's locations."""

    audit: AuditLog
    users: UserStore


def open_access(locations: Locations, *, base_dir: Path | None = None, create: bool = True) -> Access:
    """Open the store (created on a new station) and the audit log signed with the record-signing key."""
    from station.access.audit import AuditLog
    from station.access.users import UserStore
    from station.factory.keys.keystore import open_configured
    from station.records.store.sqlite import SqliteStore

    store = SqliteStore(locations.store_path, create=create)
    key = open_configured(
        locations.keys, "signing", locations.data_dir, base_dir=base_dir, environ=os.environ
    ).ed25519()
    audit = AuditLog(store, key)
    return Access(audit, UserStore(audit))


def _login_pin(args: argparse.Namespace, read_pin: PinReader) -> Pin:
    if args.operator_pin_file:
        return read_pin_file(Path(args.operator_pin_file))
    return ask_pin(f"PIN for {args.operator}: ", read_pin)


def _new_pin(args: argparse.Namespace, read_pin: PinReader) -> Pin:
    return read_pin_file(Path(args.pin_file)) if args.pin_file else ask_new_pin(args.badge, read_pin)


def _base_dir(args: argparse.Namespace) -> Path | None:
    config = getattr(args, "config", None)
    return Path(config).resolve().parent if config else None


# --- users ------------------------------------------------------------------------------------------------


def _session(args: argparse.Namespace, locations: Locations, read_pin: PinReader) -> OperatorSession:
    from station.access.session import OperatorSession

    access = open_access(locations, base_dir=_base_dir(args))
    session = OperatorSession(access.users, face="cli")
    if args.operator:
        session.login(args.operator, _login_pin(args, read_pin))
    return session


def users_add(
    args: argparse.Namespace,
    locations: Locations,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    session = _session(args, locations, read_pin)
    user = session.users.add(args.badge, args.name, args.role, _new_pin(args, read_pin), by=session.operator)
    print(f"added {user.badge} ({user.name}), role {user.role}", file=out or sys.stdout)
    return 0


def users_list(
    args: argparse.Namespace,
    locations: Locations,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    session = _session(args, locations, read_pin)
    if not session.users.needs_bootstrap():
        session.require("users.manage", {"attempted": "user-list"})
    print(format_users(session.users.list()), file=out or sys.stdout)
    return 0


def users_change(
    args: argparse.Namespace,
    locations: Locations,
    *,
    read_pin: PinReader = getpass.getpass,
    out: TextIO | None = None,
) -> int:
    """``users disable|enable|set-pin BADGE``: the verb is ``args.verb``."""
    session = _session(args, locations, read_pin)
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


# --- audit ------------------------------------------------------------------------------------------------


def audit_show(args: argparse.Namespace, locations: Locations, *, out: TextIO | None = None) -> int:
    from station.access.audit import read_audit
    from station.records.store.sqlite import SqliteStore

    out = out or sys.stdout
    entries = read_audit(SqliteStore(locations.store_path, create=False), last=args.last)
    print(format_audit(entries), file=out)
    return audit_verify(args, locations, out=out) if args.verify else 0


def audit_verify(args: argparse.Namespace, locations: Locations, *, out: TextIO | None = None) -> int:
    from station.access.audit import read_audit
    from station.access.auditverify import verify_audit
    from station.records.store.sqlite import SqliteStore

    out = out or sys.stdout
    report = verify_audit(
        read_audit(SqliteStore(locations.store_path, create=False)), locations.trusted_keys()
    )
    print(
        f"checked {report.checked} audit entries (signatures, chain, columns); last seq {report.last_seq}",
        file=out,
    )
    if report.first is None:
        print("OK: every audit entry verifies", file=out)
        return 0
    print(f"FAILED: first broken entry: {report.first}", file=out)
    for problem in report.problems[1:11]:
        print(f"  also: {problem}", file=out)
    return 1


def format_audit(entries: list[AuditEntry]) -> str:
    if not entries:
        return "the audit log is empty"
    lines = [f"{'seq':>5}  {'time':<24}  {'actor':<16} {'role':<8}  {'action':<18} {'outcome':<8} detail"]
    for entry in entries:
        actor = entry.actor_id or "-"
        detail = " ".join(f"{key}={json.dumps(value)}" for key, value in entry.detail.items())
        lines.append(
            f"{entry.seq:>5}  {entry.time:<24}  {actor:<16} {entry.actor_role or '-':<8}  "
            f"{entry.action:<18} {entry.outcome:<8} {detail}"
        )
    return "\n".join(lines)


# --- argument parsing (called by cli.py) ------------------------------------------------------------------


def add_access_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    store_arguments: Callable[[argparse.ArgumentParser], None],
    handler: Callable[[argparse.Namespace], int],
) -> None:
    """``users`` and ``audit`` sub-commands; ``handler`` resolves locations and calls ``access_command``."""
    users = commands.add_parser("users", help="operator accounts").add_subparsers(title="users commands")
    add = _users_parser(users, "add", "add an account (PIN asked twice, or --pin-file)", store_arguments)
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, help="operator | qa | rma | admin")
    add.add_argument("--pin-file", help="file whose first line is the new account's PIN (chmod 600)")
    add.set_defaults(handler=handler, access_command=users_add)
    listing = _users_parser(users, "list", "list the accounts", store_arguments, badge=False)
    listing.set_defaults(handler=handler, access_command=users_list)
    changes = (
        ("disable", "refuse this account's logins"),
        ("enable", "allow logins again, clear a lock"),
        ("set-pin", "set a new PIN (asked twice, or --pin-file)"),
    )
    for verb, text in changes:
        sub = _users_parser(users, verb, text, store_arguments)
        if verb == "set-pin":
            sub.add_argument("--pin-file", help="file whose first line is the new PIN (chmod 600)")
        sub.set_defaults(handler=handler, access_command=users_change, verb=verb)
    audit = commands.add_parser("audit", help="the station audit log").add_subparsers(title="audit commands")
    show = audit.add_parser("show", help="print the audit log")
    store_arguments(show)
    show.add_argument("--last", type=int, help="only the last N entries")
    show.add_argument("--verify", action="store_true", help="also verify signatures and the chain")
    show.set_defaults(handler=handler, access_command=audit_show)
    verify = audit.add_parser("verify", help="verify signatures and the chain of the audit log")
    store_arguments(verify)
    verify.set_defaults(handler=handler, access_command=audit_verify)


def _users_parser(
    users: argparse._SubParsersAction[argparse.ArgumentParser],
    verb: str,
    text: str,
    store_arguments: Callable[[argparse.ArgumentParser], None],
    *,
    badge: bool = True,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = users.add_parser(verb, help=text)
    if badge:
        parser.add_argument("badge", help="badge id")
    store_arguments(parser)
    add_login_arguments(parser, pin_flag="--operator-pin-file")
    return parser


# --- who runs a mode (station run / qa / rma) -------------------------------------------------------------

DEVELOPMENT_OPERATOR = Operator("development", "operator")  # records of a simulated station with no accounts


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
    with no accounts yet runs as ``DEVELOPMENT_OPERATOR``, so demos and tests need no login; a production
    station without accounts is refused, saying how to create the first one.
    """
    from station.access.session import OperatorSession
    from station.cli.commands import Locations

    locations = Locations(data_dir, None, config.keys, [])
    access = open_access(locations, base_dir=config.base_dir)
    if not access.users.list():
        if config.station.simulated:
            return DEVELOPMENT_OPERATOR
        raise AccessError(
            "a production station needs operator accounts: create the first admin with "
            "station users add BADGE --name NAME --role admin"
        )
    if not getattr(args, "operator", None):
        raise AccessError(
            f"{mode} needs a login: --operator BADGE (PIN from the terminal or --pin-file FILE)"
        )
    session = OperatorSession(access.users, face="cli")
    session.login(args.operator, _login_pin(args, read_pin))
    return session.change_mode(mode)
