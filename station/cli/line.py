"""``station records migrate|sync``, ``station line serve``: the line database's schema, sync and dashboard.

>>> is_line_url("postgresql://station@db/line"), is_line_url("station-data/records.sqlite3")
(True, False)
>>> line_database("line.sqlite3")                     # sync pushes to the line database only
Traceback (most recent call last):
station.core.errors.RecordError: the line database must be a postgresql:// URL, not 'line.sqlite3'
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from station.cli.login import add_login_arguments, admit_elsewhere
from station.cli.options import Subparsers, config_argument, optional_config
from station.core.errors import RecordError, StationError
from station.core.text import printable

if TYPE_CHECKING:
    from station.app.data import StationData
    from station.core.config import StationConfig
    from station.records.store.postgres import PostgresStore


def add_parsers(records_verbs: Subparsers) -> None:
    """``records migrate`` and ``records sync`` (docs/line-database.md)."""
    migrate = records_verbs.add_parser("migrate", help="apply pending schema migrations")
    config_argument(migrate)
    migrate.add_argument("--store", help="postgresql:// URL or store file (default: [store] line)")
    migrate.add_argument("--grant", metavar="ROLE", help="let ROLE insert and select only (the stations)")
    migrate.add_argument(
        "--test-line",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mark the line database a test line that takes simulated units' records (--no-test-line: "
        "a production line again, which refuses them)",
    )
    migrate.set_defaults(handler=_migrate)
    sync = records_verbs.add_parser("sync", help="push unsent records to the line database")
    config_argument(sync)
    sync.add_argument("--data", help="station data directory")
    sync.add_argument("--store", help="line database postgresql:// URL (default: [store] line)")
    sync.add_argument("--batch", type=int, default=200, help="records per transaction (default 200)")
    add_login_arguments(sync)  # only for other data than a production station's own (admit_elsewhere)
    sync.set_defaults(handler=_sync)


def add_parser(commands: Subparsers) -> None:
    """``line serve``: the read-only web dashboard of the line (docs/dashboard.md)."""
    line = commands.add_parser("line", help="the line dashboard (a read-only web application)")
    verbs = line.add_subparsers(title="line commands")
    serve = verbs.add_parser("serve", help="serve the line dashboard over the line database or a store")
    config_argument(serve)
    serve.add_argument("--data", help="station data directory (its store, when there is no line database)")
    serve.add_argument("--store", help="postgresql:// URL (a read-only role) or a station's store file")
    serve.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (default 127.0.0.1:8080)")
    serve.add_argument("--trust", action="append", default=[], help="extra trusted signing key (PEM file)")
    serve.add_argument("--tls-cert", help="certificate (PEM) for HTTPS; needed beyond localhost")
    serve.add_argument("--tls-key", help="its private key (PEM)")
    serve.add_argument(
        "--accounts", help="a station store whose accounts may log in; needed beyond localhost"
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    """Open the source read-only, check the exposure rules, serve until interrupted."""
    from station.app.data import StationData, read_trusted_keys
    from station.dashboard.app import build_app
    from station.dashboard.auth import Accounts
    from station.dashboard.server import Tls, check_exposure, listen_address, serve
    from station.dashboard.source import Source
    from station.records.jws import trusted_keys_from

    host, port = listen_address(args.listen)
    tls = Tls(Path(args.tls_cert), Path(args.tls_key)) if args.tls_cert and args.tls_key else None
    check_exposure(host, tls, Path(args.accounts) if args.accounts else None)
    config = optional_config(args.config)
    target: str | None = args.store or (config.store.line if config is not None else None)
    keys = trusted_keys_from(read_trusted_keys(Path(path) for path in args.trust))
    if not target:
        data = StationData.open(config, data_dir=Path(args.data) if args.data else None)
        target, keys = str(data.store_path), {**data.trusted_keys(), **keys}
    source = Source(target, trusted_keys=keys)
    accounts = Accounts(Path(args.accounts)) if args.accounts else None
    scheme = "https" if tls else "http"
    print(f"line dashboard of {source.name} at {scheme}://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    serve(build_app(source, accounts=accounts), host, port, tls)
    return 0


def is_line_url(store: str | None) -> bool:
    """True when ``--store`` names the line database (a PostgreSQL URL), False for a file or nothing."""
    from station.records.store.migrate import is_url  # the test open_store makes

    return store is not None and is_url(store)


def line_database(target: str) -> PostgresStore:
    """The line database at ``target``, opened with ``open_store``; RecordError for anything but a URL."""
    from station.records.store import open_store
    from station.records.store.postgres import PostgresStore, redact

    store = open_store(target) if is_line_url(target) else None
    if not isinstance(store, PostgresStore):  # no password in the message, even of a mistyped URL
        raise RecordError(f"the line database must be a postgresql:// URL, not {redact(target)!r}")
    return store


def _line_target(args: argparse.Namespace, config: StationConfig | None) -> str:
    target: str | None = args.store or (config.store.line if config is not None else None)
    if not target:
        raise StationError("no line database: give --store postgresql://... or [store] line in station.toml")
    return target


def _migrate(args: argparse.Namespace) -> int:
    target = _line_target(args, optional_config(args.config))
    return cmd_migrate(target, grant=args.grant, test_line=args.test_line)


def _sync(args: argparse.Namespace) -> int:
    """The station's data from ``--config/--data`` (here ``--store`` is the line database, not a file)."""
    from station.app.data import StationData

    config = optional_config(args.config)
    data = StationData.open(config, data_dir=Path(args.data) if args.data else None)
    admit_elsewhere(args, data)  # other records pushed as this station's: an admin of the station only
    return cmd_sync(data, _line_target(args, config), batch=args.batch)


def cmd_migrate(
    target: str, *, grant: str | None = None, test_line: bool | None = None, out: TextIO | None = None
) -> int:
    """Apply pending schema migrations to a line database URL or a SQLite store; optionally GRANT, and
    mark the line a test line (or a production line again)."""
    from station.records.store.admin import grant_station_role, migrate_target, set_test_line

    out = out or sys.stdout
    if test_line is not None and not is_line_url(target):
        print(
            "records migrate: --test-line is a setting of the line database (a postgresql:// URL)",
            file=sys.stderr,
        )
        return 2
    try:
        result = migrate_target(target)
        if grant is not None:
            grant_station_role(line_database(target), grant)
        if test_line is not None:
            set_test_line(line_database(target), test_line)
    except RecordError as exc:
        print(f"records migrate: {printable(exc)}", file=sys.stderr)
        return 2
    where = line_database(target).name if is_line_url(target) else target
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in result.applied) or "nothing to apply"
    print(f"{where}: schema version {result.before} -> {result.after} ({names})", file=out)
    if grant is not None:
        print(f"granted SELECT, INSERT (no UPDATE, DELETE) to role {grant}", file=out)
    if test_line is not None:
        takes = "a test line: it takes" if test_line else "a production line: it refuses"
        print(f"this line database is now {takes} records of simulated units", file=out)
    return 0


def cmd_sync(data: StationData, url: str, *, batch: int, out: TextIO | None = None) -> int:
    """Push the station's unsent records to the line database; 1 if any record was refused."""
    from station.records.line.state import summary
    from station.records.line.sync import sync

    out = out or sys.stdout
    public_key = data.signing_public_key()  # the sync registers it with the line database
    try:
        local = data.store()
        line = line_database(url)
        report = sync(local, line, public_key, batch=batch)
    except RecordError as exc:
        reason = printable(exc)
        print(f"records sync: {reason} (records are kept locally; run the sync again)", file=sys.stderr)
        return 2
    left = summary(local)
    print(
        f"{line.name}: sent {report.sent}, already there {report.already}, refused {len(report.refused)}; "
        f"this store: {left.sent} sent, {left.refused} refused, {left.unsent} not sent",
        file=out,
    )
    for refusal in report.refused:
        print(f"REFUSED: {refusal} (kept locally)", file=out)
    if report.waiting:
        print(f"{report.waiting} later record(s) wait behind the refused one", file=out)
    for note in report.duplicate_units:
        print(f"WARNING: {note}", file=out)
    for note in report.missing:
        print(f"MISSING: {note}", file=out)
    return 0 if report.ok else 1
