"""``station records verify|export|show``: read a station's store or the line database, check, print.

>>> import sys       # exit codes: 0 all good, 1 a record is bad, 2 the command could not run
>>> cmd_verify(Path("no-such-dir/records.sqlite3"), trusted_keys={}, ca=None, err=sys.stdout)
records verify: no record store at no-such-dir/records.sqlite3
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from station.cli import line
from station.cli.options import Subparsers, optional_config, station_data, store_arguments
from station.cli.recordtext import format_history_head, format_report, format_view
from station.core.errors import RecordError
from station.core.text import printable

LINE_TIMEOUT = 5.0  # seconds: verify says so and carries on when the line database does not answer

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from station.records.store import RecordStore
    from station.records.store.postgres import PostgresStore


def add_parser(commands: Subparsers) -> None:
    records = commands.add_parser("records", help="verify, export or show manufacturing records")
    verbs = records.add_subparsers(title="records commands")
    verify = verbs.add_parser("verify", help="check signatures, chains and certificates")
    store_arguments(verify)
    verify.add_argument(
        "--line", metavar="URL", help="compare the store with this line database (default: [store] line)"
    )
    verify.set_defaults(handler=_verify)
    export = verbs.add_parser("export", help="write records as JSONL or CSV to stdout")
    store_arguments(export)
    export.set_defaults(handler=_export)
    export.add_argument("--format", default="jsonl", help="jsonl | csv")
    show = verbs.add_parser("show", help="show one unit's records")
    store_arguments(show)
    show.set_defaults(handler=_show)
    show.add_argument("unit", help="device id, genuine id or record id")
    line.add_parsers(verbs)


def _verify(args: argparse.Namespace) -> int:
    if line.is_line_url(args.store):
        trusted = _line_trust(args, "verify")
        if trusted is None:
            return 2
        database, keys = trusted
        print(f"{database.name}: trusting {len(keys)} signing key(s) registered in the line database")
        return cmd_verify(database, keys, None)
    data = station_data(args)
    config = optional_config(args.config)
    url = args.line or (config.store.line if config is not None else None)
    own = config is not None and not (args.data or args.store)  # this configuration's own data directory
    stations = (config.station.id,) if own and config is not None else ()
    try:
        anchor = None if url is None else line.line_database(url)
    except RecordError as exc:
        print(f"records verify: {printable(exc)}", file=sys.stderr)
        return 2
    if anchor is not None:
        anchor.connect_timeout = LINE_TIMEOUT
    keys, ca = data.trusted_keys(), data.ca_certificate()
    return cmd_verify(data.store_path, keys, ca, line=anchor, stations=stations)


def _export(args: argparse.Namespace) -> int:
    target = args.store if line.is_line_url(args.store) else station_data(args).store_path
    return cmd_export(target, args.format, sys.stdout)


def _show(args: argparse.Namespace) -> int:
    if line.is_line_url(args.store):
        trusted = _line_trust(args, "show")
        return 2 if trusted is None else cmd_show(trusted[0], args.unit, trusted_keys=trusted[1])
    data = station_data(args)
    return cmd_show(data.store_path, args.unit, trusted_keys=data.trusted_keys(), ca=data.ca_certificate())


def _line_trust(
    args: argparse.Namespace, verb: str
) -> tuple[PostgresStore, dict[str, Ed25519PublicKey]] | None:
    """The line database ``--store`` names and the keys it is checked with; None (said why) if unreachable."""
    from station.app.data import read_trusted_keys
    from station.records.jws import trusted_keys_from

    extra = trusted_keys_from(read_trusted_keys(Path(path) for path in args.trust))
    database = line.line_database(args.store)
    try:
        return database, {**database.station_keys(), **extra}
    except RecordError as exc:
        print(f"records {verb}: {printable(exc)}", file=sys.stderr)
        return None


def cmd_verify(
    store: Path | str | RecordStore,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    ca: x509.Certificate | None,
    *,
    line: RecordStore | None = None,
    stations: Iterable[str] = (),
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Verify every record in the store (and its tail against its head file and ``line``); print a
    summary and any notes; 1 naming the first bad record if any."""
    from station.records.check.store import verify_store

    out, err = out or sys.stdout, err or sys.stderr
    try:
        report = verify_store(_open(store), trusted_keys, ca, line=line, stations=stations)
    except RecordError as exc:
        print(f"records verify: {printable(exc)}", file=err)
        return 2
    print(format_report(report, with_ca=ca is not None), file=out)
    for note in report.notes:
        print(f"note: {printable(note)}", file=out)
    return 0 if report.ok else 1


def cmd_export(store: Path | str | RecordStore, fmt: str, out: TextIO, *, err: TextIO | None = None) -> int:
    """Write every record to ``out`` as ``jsonl`` or ``csv``; the count goes to ``err``."""
    from station.records.export import FORMATS, export_csv, export_jsonl

    err = err or sys.stderr
    if fmt not in FORMATS:
        print(f"records export: unknown format {fmt!r}; choose {' or '.join(FORMATS)}", file=err)
        return 2
    try:
        count = (export_jsonl if fmt == "jsonl" else export_csv)(_open(store).records(), out)
    except RecordError as exc:
        print(f"records export: {printable(exc)}", file=err)
        return 2
    print(f"exported {count} records as {fmt}", file=err)
    return 0


def cmd_show(
    store: Path | str | RecordStore,
    devid_or_record_id: str,
    *,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    ca: x509.Certificate | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Show one record (by record id) or every record of a unit (by devid or genuine id, newest first,
    the current one marked), each with its checks."""
    from station.records.history import current_record, unit_history
    from station.records.view import record_view

    out, err = out or sys.stdout, err or sys.stderr
    unit = devid_or_record_id
    try:
        opened = _open(store)
        found = opened.get(unit)
        records = [found] if found is not None else unit_history([opened], devid=unit, genuine_id=unit)[::-1]
    except RecordError as exc:
        print(f"records show: {printable(exc)}", file=err)
        return 2
    if not records:
        print(f"records show: no record with record id, devid or genuine id {unit!r}", file=err)
        return 1
    current = None if found is not None else current_record(records)
    views = [record_view(opened, record, trusted_keys=trusted_keys, ca_certificate=ca) for record in records]
    shown = [
        format_view(view, current=current is not None and view.record_id == current.record_id)
        for view in views
    ]
    if found is None:
        shown.insert(0, format_history_head(unit, len(records), current))
    print("\n\n".join(shown), file=out)
    return 0 if all(view.checks.ok for view in views) else 1


def _open(store: Path | str | RecordStore) -> RecordStore:
    """A store file or database URL opened for reading (a file is never created), or the store given."""
    from station.records.store import open_store

    return open_store(str(store)) if isinstance(store, (Path, str)) else store
