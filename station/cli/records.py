"""``station records verify|export|show``: the functions ``station/cli.py`` calls, and their printing.

Example::

    sys.exit(cmd_verify(data_dir / DEFAULT_FILENAME, trusted_keys={kid: public_key}, ca=ca_certificate))
    sys.exit(cmd_export(store_path, "jsonl", sys.stdout))
    sys.exit(cmd_show(store_path, "2023b758c209269a", trusted_keys=keys, ca=ca_certificate))

Exit codes: 0 all good; 1 a record is bad (or, for ``show``, not found or failing a check); 2 the
command could not run (no store at the path, an unknown export format). The logic lives in ``audit``,
``export`` and ``view``; this module only opens the store and writes text. Data goes to ``out``
(stdout), diagnostics to ``err`` (stderr), so ``export > file`` stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.records.check.chain import VerifyReport
from station.records.check.store import verify_store
from station.records.export import FORMATS, export_csv, export_jsonl
from station.records.store import RecordStore
from station.records.store.sqlite import SqliteStore
from station.records.view import RecordView, record_view

_MORE_PROBLEMS_SHOWN = 10


def cmd_verify(
    store_path: Path | str | RecordStore,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    ca: x509.Certificate | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Verify every record in the store; print a summary; 1 naming the first bad record if any."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        report = verify_store(_open(store_path), trusted_keys, ca)
    except RecordError as exc:
        print(f"records verify: {exc}", file=err)
        return 2
    print(format_report(report, with_ca=ca is not None), file=out)
    return 0 if report.ok else 1


def cmd_export(
    store_path: Path | str | RecordStore, fmt: str, out: TextIO, *, err: TextIO | None = None
) -> int:
    """Write every record to ``out`` as ``jsonl`` or ``csv``; the count goes to ``err``."""
    err = err or sys.stderr
    if fmt not in FORMATS:
        print(f"records export: unknown format {fmt!r}; choose {' or '.join(FORMATS)}", file=err)
        return 2
    try:
        store = _open(store_path)
        count = (export_jsonl if fmt == "jsonl" else export_csv)(store.records(), out)
    except RecordError as exc:
        print(f"records export: {exc}", file=err)
        return 2
    print(f"exported {count} records as {fmt}", file=err)
    return 0


def cmd_show(
    store_path: Path | str | RecordStore,
    devid_or_record_id: str,
    *,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    ca: x509.Certificate | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Show one record (by record id) or every record of a unit (by devid), each with its checks."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        store = _open(store_path)
        found = store.get(devid_or_record_id)
        records = [found] if found is not None else list(store.records(devid=devid_or_record_id))
    except RecordError as exc:
        print(f"records show: {exc}", file=err)
        return 2
    if not records:
        print(f"records show: no record with record id or devid {devid_or_record_id!r}", file=err)
        return 1
    views = [record_view(store, record, trusted_keys=trusted_keys, ca_certificate=ca) for record in records]
    print("\n\n".join(format_view(view) for view in views), file=out)
    return 0 if all(view.checks.ok for view in views) else 1


def _open(store: Path | str | RecordStore) -> RecordStore:
    """A store file opened for reading (never created), or the store given (e.g. the line database)."""
    return SqliteStore(store, create=False) if isinstance(store, (Path, str)) else store


def format_report(report: VerifyReport, *, with_ca: bool) -> str:
    """The verify summary: what was checked, then OK or the first bad record and a few more."""
    chains = ", ".join(f"{station} seq 1-{last}" for station, last in report.stations.items()) or "none"
    scope = "signatures, chains, schema, certificates" + (" (CA checked)" if with_ca else " (no CA given)")
    lines = [f"checked {report.checked} records ({scope}); stations: {chains}"]
    if report.first is None:
        lines.append("OK: every record verifies")
        return "\n".join(lines)
    lines.append(f"FAILED: first bad record: {report.first}")
    for problem in report.problems[1 : 1 + _MORE_PROBLEMS_SHOWN]:
        lines.append(f"  also: {problem}")
    hidden = len(report.problems) - 1 - _MORE_PROBLEMS_SHOWN
    if hidden > 0:
        lines.append(f"  ... and {hidden} more")
    return "\n".join(lines)


def _superseded(view: RecordView) -> list[str]:
    if view.superseded_by is None:
        return []
    return [f"  superseded by {view.superseded_by} (this record is kept as history)"]


def format_view(view: RecordView) -> str:
    """A record as a person reads it: identity, unit, steps with times, failure, certificate, checks."""
    lines = [
        f"record {view.record_id} (station {view.station}, seq {view.seq})",
        f"  mode {view.mode}, outcome {view.outcome.upper()}{', simulated unit' if view.simulated else ''}",
        *_superseded(view),
        f"  started {view.started}, finished {view.finished}",
        f"  fixture {view.fixture.get('slot')} (port {view.fixture.get('port') or '-'}), "
        f"operator {view.operator.get('id')} ({view.operator.get('role')})",
        "unit",
        *(f"  {name:<12} {value}" for name, value in view.unit.items() if value is not None),
        "steps",
        *(
            f"  {step.name:<16} {step.outcome:<8} {step.attempts} attempt(s)  "
            f"{'?' if step.seconds is None else f'{step.seconds:.3f} s':>10}  from {step.started}"
            for step in view.steps
        ),
    ]
    if view.failure is not None:
        failure = view.failure
        lines += [
            "failure",
            f"  step {failure.get('step')}, code {failure.get('code')}: {failure.get('message')}",
        ]
    if view.certificate is not None:
        cert = view.certificate
        lines += ["certificate", f"  subject {cert.subject}", f"  issuer  {cert.issuer}",
                  f"  serial  {cert.serial}", f"  valid   {cert.not_before} to {cert.not_after}"]  # fmt: skip
    if view.personalization is not None:
        lines += [
            "personalization",
            *(f"  {name:<18} {value}" for name, value in view.personalization.items()),
        ]
        if view.sealed_secrets:
            lines.append(f"  sealed secrets     {', '.join(view.sealed_secrets)} (sealed to the escrow key)")
    links = {name: value for name, value in view.links.items() if value}
    if links:
        lines += ["links", *(f"  {name:<12} {value}" for name, value in links.items())]
    checks = view.checks
    lines += ["verification", f"  signature    {checks.signature}", f"  chain        {checks.chain}",
              f"  certificate  {checks.certificate}", f"  line db      {view.line}"]  # fmt: skip
    return "\n".join(lines)
