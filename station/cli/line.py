"""``station records migrate|sync``, and ``verify|export|show --store URL`` on the line database.

Example::

    sys.exit(cmd_migrate("postgresql://line_owner@db/line", grant="station"))
    sys.exit(cmd_sync(data_dir / DEFAULT_FILENAME, "postgresql://station@db/line", signing_public_key))
    sys.exit(cmd_line_verify("postgresql://auditor@db/line", extra_keys=[]))

Exit codes as in ``commands``: 0 all good; 1 a record is bad or was refused; 2 the command could not
run (database unreachable, schema not current). The line database is verified against the signing keys
registered in its ``stations`` table (plus any ``--trust`` keys): the keys the sync accepted records
with, so the check proves the database holds exactly what the stations signed, unaltered and gapless.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.cli import records as record_commands
from station.core.errors import ConfigError, RecordError
from station.records.jws import trusted_keys_from
from station.records.line.state import summary
from station.records.line.sync import DEFAULT_BATCH, sync
from station.records.store.admin import grant_station_role, migrate_target
from station.records.store.postgres import PostgresStore
from station.records.store.sqlite import SqliteStore


def cmd_migrate(target: str, *, grant: str | None = None, out: TextIO | None = None) -> int:
    """Apply pending schema migrations to a line database URL or a SQLite store; optionally GRANT."""
    out = out or sys.stdout
    try:
        result = migrate_target(target)
        if grant is not None:
            grant_station_role(PostgresStore(target), grant)
    except RecordError as exc:
        print(f"records migrate: {exc}", file=sys.stderr)
        return 2
    where = PostgresStore(target).name if target.startswith("postgres") else target
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in result.applied) or "nothing to apply"
    print(f"{where}: schema version {result.before} -> {result.after} ({names})", file=out)
    if grant is not None:
        print(f"granted SELECT, INSERT (no UPDATE, DELETE) to role {grant}", file=out)
    return 0


def cmd_sync(
    store_path: Path,
    url: str,
    public_key: Ed25519PublicKey,
    *,
    batch: int = DEFAULT_BATCH,
    out: TextIO | None = None,
) -> int:
    """Push the station's unsent records to the line database; 1 if any record was refused."""
    out = out or sys.stdout
    try:
        local = SqliteStore(store_path, create=False)
        line = PostgresStore(url)
        report = sync(local, line, public_key, batch=batch)
    except RecordError as exc:
        print(f"records sync: {exc} (records are kept locally; run the sync again)", file=sys.stderr)
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
    return 0 if report.ok else 1


def line_trusted_keys(line: PostgresStore, extra: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """The keys registered in the line database, plus the ``--trust`` ones."""
    return {**line.station_keys(), **trusted_keys_from(extra)}


def cmd_line_verify(url: str, extra_keys: Iterable[Ed25519PublicKey], *, out: TextIO | None = None) -> int:
    try:
        line = PostgresStore(url)
        keys = line_trusted_keys(line, extra_keys)
    except RecordError as exc:
        print(f"records verify: {exc}", file=sys.stderr)
        return 2
    print(f"{line.name}: trusting {len(keys)} signing key(s) registered in the line database", file=out)
    return record_commands.cmd_verify(line, keys, None, out=out)


def cmd_line_export(url: str, fmt: str) -> int:
    return record_commands.cmd_export(PostgresStore(url), fmt, sys.stdout)


def cmd_line_show(url: str, unit: str, extra_keys: Iterable[Ed25519PublicKey]) -> int:
    try:
        line = PostgresStore(url)
        keys = line_trusted_keys(line, extra_keys)
    except RecordError as exc:
        print(f"records show: {exc}", file=sys.stderr)
        return 2
    return record_commands.cmd_show(line, unit, trusted_keys=keys)


def load_trusted(paths: Iterable[Path]) -> list[Ed25519PublicKey]:
    """``--trust`` PEM files: Ed25519 public keys, anything else named as an error."""
    keys = []
    for path in paths:
        loaded = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ConfigError("a trusted record key must be an Ed25519 public key (PEM)", path=str(path))
        keys.append(loaded)
    return keys
