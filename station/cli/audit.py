"""``station audit show|verify``: the station's signed audit log, read without a login.

>>> import argparse, pathlib, tempfile; from station.app.data import StationData
>>> with tempfile.TemporaryDirectory() as folder:                # a new station: its audit log is empty
...     data = StationData(pathlib.Path(folder), create=True)
...     audit_show(argparse.Namespace(last=None, verify=False), data)
the audit log is empty
0
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from station.cli.options import Subparsers, station_data, store_arguments
from station.core.text import printable

if TYPE_CHECKING:
    from station.access.audit import AuditEntry
    from station.app.data import StationData


def add_parser(commands: Subparsers) -> None:
    audit = commands.add_parser("audit", help="the station audit log").add_subparsers(title="audit commands")
    show = audit.add_parser("show", help="print the audit log")
    store_arguments(show)
    show.add_argument("--last", type=int, help="only the last N entries")
    show.add_argument("--verify", action="store_true", help="also verify signatures and the chain")
    show.set_defaults(handler=lambda args: audit_show(args, station_data(args)))
    verify = audit.add_parser("verify", help="verify signatures and the chain of the audit log")
    store_arguments(verify)
    verify.set_defaults(handler=lambda args: audit_verify(args, station_data(args)))


def audit_show(args: argparse.Namespace, data: StationData, *, out: TextIO | None = None) -> int:
    from station.access.audit import read_audit

    out = out or sys.stdout
    print(format_audit(read_audit(data.store(), last=args.last)), file=out)
    return audit_verify(args, data, out=out) if args.verify else 0


def audit_verify(args: argparse.Namespace, data: StationData, *, out: TextIO | None = None) -> int:
    from station.access.auditverify import verify_audit_log

    out = out or sys.stdout
    report = verify_audit_log(data.store(), data.trusted_keys())
    print(
        f"checked {report.checked} audit entries (signatures, chain, columns, head file); "
        f"last seq {report.last_seq}",
        file=out,
    )
    if report.first is None:
        print("OK: every audit entry verifies", file=out)
    else:
        print(f"FAILED: first broken entry: {report.first}", file=out)
        for problem in report.problems[1:11]:
            print(f"  also: {problem}", file=out)
    for note in report.notes:
        print(f"note: {printable(note)}", file=out)
    return 0 if report.first is None else 1


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
