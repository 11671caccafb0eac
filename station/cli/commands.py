"""What the command-line verbs do, separate from argument parsing (``cli.py``) so tests can call them.

Example::

    exit_code = demo(fixtures=8, units=16, timing="fast", data_dir=None)
    exit_code = records_verify(Locations(Path("station-data"), None, KeysSection(), []))
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.app.demo import FAMILIES, demo_config, escrow_key_path
from station.app.station import Station
from station.cli import records as record_commands
from station.cli.console import ProgressPrinter, summarize
from station.core.config import KeysSection, StationConfig
from station.core.errors import ConfigError, RecordError
from station.core.events import Outcome
from station.core.operator import Operator
from station.factory.escrow import open_sealed
from station.factory.keys.keystore import (
    PublicKey,
    TokenKeyRef,
    init_token_key,
    key_id,
    open_configured,
    open_file_key,
    open_key,
    token_access,
)
from station.factory.keys.tokenkeys import KeyKind
from station.pipeline.modes.rma.wipe import AskPassphrase, ReturnedUnit, RmaPolicy
from station.pipeline.tally import VerdictTally
from station.records import jws
from station.records.store.sqlite import DEFAULT_FILENAME, SqliteStore

CA_CERT_SUFFIX = ".crt.pem"


@dataclass(frozen=True)
class Locations:
    """Where a station's records and keys are: its data directory, store file and key names."""

    data_dir: Path
    store: Path | None
    keys: KeysSection
    trust: list[Path]

    @property
    def store_path(self) -> Path:
        return self.store or self.data_dir / DEFAULT_FILENAME

    def signing_public_key(self) -> Ed25519PublicKey:
        ref = open_configured(self.keys, "signing", self.data_dir)
        if isinstance(ref, TokenKeyRef):  # read from the token's public object: no PIN needed
            public = ref.public_key(KeyKind.ED25519)
            assert isinstance(public, Ed25519PublicKey)
            return public
        return ref.ed25519().public_key()

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        keys = [self.signing_public_key()] if _has_signing_key(self) else []
        for path in self.trust:
            loaded = serialization.load_pem_public_key(path.read_bytes())
            if not isinstance(loaded, Ed25519PublicKey):
                raise ConfigError("a trusted record key must be an Ed25519 public key (PEM)", path=str(path))
            keys.append(loaded)
        return jws.trusted_keys_from(keys)

    def ca_certificate(self) -> x509.Certificate | None:
        path = open_configured(self.keys, "ca", self.data_dir).sibling(CA_CERT_SUFFIX)
        return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def _has_signing_key(where: Locations) -> bool:
    ref = open_configured(where.keys, "signing", where.data_dir)
    return isinstance(ref, TokenKeyRef) or ref.sibling(".pem").exists()


def demo(fixtures: int, units: int, timing: str, data_dir: Path | None, family: str = "ppa") -> int:
    """Run ``units`` simulated units over ``fixtures`` slots; 0 only if all pass and all records verify."""
    if fixtures < 1 or units < 1:
        raise ConfigError("--fixtures and --units must be at least 1")
    if family not in FAMILIES:
        raise ConfigError(f"unknown --family {family!r}; choose one of {', '.join(FAMILIES)}")
    data = data_dir or Path(tempfile.mkdtemp(prefix="station-demo-"))
    config = demo_config(data, fixtures=fixtures, family=family)
    print(
        f"demo station {config.station.id}: {fixtures} simulated fixtures ({family}), {units} units, "
        f"{timing} timing"
    )
    print(f"data directory: {data}")
    station = Station.open(config, data_dir=data, timing=timing)
    tally, elapsed = _run_station(station, units)
    print(summarize(tally, elapsed))
    where = Locations(data, None, config.keys, [])
    verified = record_commands.cmd_verify(where.store_path, where.trusted_keys(), where.ca_certificate())
    print(
        f"records: station records show --data {data} <device id>; escrow key (DEMO ONLY): "
        f"{escrow_key_path(data)}"
    )
    all_passed = tally.total == units == tally.counts[Outcome.PASS]
    return 0 if all_passed and verified == 0 else 1


def run(
    config: StationConfig,
    units: int | None,
    data_dir: Path | None,
    profile: str | None,
    *,
    mode: str = "production",
    operator: Operator | None = None,
    rma: RmaPolicy | None = None,
) -> int:
    """Headless ``mode`` until ``units`` verdicts or SIGINT/SIGTERM; resumes interrupted production runs."""
    station = Station.open(config, data_dir=data_dir, profile=profile, mode=mode, operator=operator, rma=rma)
    tally, elapsed = _run_station(station, units)
    print(summarize(tally, elapsed))
    return 0 if tally.counts[Outcome.PASS] == tally.total else 1


def _run_station(station: Station, units: int | None) -> tuple[VerdictTally, float]:
    station.bus.subscribe(ProgressPrinter(sys.stdout))
    started = time.monotonic()
    try:
        with _stop_on_signals(station):
            station.run(units=units)
    finally:
        station.close()
    assert station.tally is not None  # run() made it
    return station.tally, time.monotonic() - started


@contextmanager
def _stop_on_signals(station: Station) -> Iterator[None]:
    """SIGINT/SIGTERM ask every slot to stop after its current step; a second signal is not needed."""

    def stop(signum: int, frame: FrameType | None) -> None:
        print("stopping after the current steps...", file=sys.stderr, flush=True)
        station.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def records_verify(where: Locations) -> int:
    return record_commands.cmd_verify(where.store_path, where.trusted_keys(), where.ca_certificate())


def records_export(where: Locations, fmt: str) -> int:
    return record_commands.cmd_export(where.store_path, fmt, sys.stdout)


def records_show(where: Locations, unit: str) -> int:
    return record_commands.cmd_show(
        where.store_path, unit, trusted_keys=where.trusted_keys(), ca=where.ca_certificate()
    )


def keys_export(where: Locations, pkcs11_uri: str | None = None) -> int:
    """Print the signing public key (PEM), or that of the token key ``pkcs11_uri``; never needs a PIN."""
    if pkcs11_uri is None:
        public: PublicKey = where.signing_public_key()
    else:
        ref = open_key(pkcs11_uri, where.data_dir, setting="--pkcs11", token=token_access(where.keys))
        if not isinstance(ref, TokenKeyRef):
            raise ConfigError("--pkcs11 needs a pkcs11: URI")
        public = ref.public_key()
    _print_public(public)
    return 0


def keys_init(config: StationConfig, pkcs11_uri: str, kind: str | None, data_dir: Path | None) -> int:
    """Create a key pair in a token (PIN from [keys] pin_file/pin_env); print its public key and id."""
    data = data_dir or config.resolve(config.station.data_dir)
    public = init_token_key(config.keys, pkcs11_uri, kind, data, base_dir=config.base_dir, environ=os.environ)
    print(f"created {pkcs11_uri} (key id {key_id(public)})", file=sys.stderr)
    _print_public(public)
    return 0


def _print_public(public: PublicKey) -> None:
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sys.stdout.write(pem.decode("ascii"))


def ca_export(where: Locations) -> int:
    certificate = where.ca_certificate()
    if certificate is None:
        raise ConfigError("no factory CA certificate yet (it is created on the station's first start)")
    sys.stdout.write(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return 0


def secrets_open(where: Locations, record_id: str, escrow_key: Path) -> int:
    """Print a record's escrowed secrets (customer hand-over); the escrow key stays in its file."""
    stored = SqliteStore(where.store_path, create=False).get(record_id)
    if stored is None:
        raise RecordError(f"no record {record_id} in {where.store_path}")
    personalization = stored.payload.get("personalization") or {}
    sealed = personalization.get("sealed_secrets")
    if sealed is None:
        raise RecordError(f"record {record_id} has no sealed secrets (batch key policy, or not personalised)")
    private = open_file_key(f"file:{escrow_key.resolve()}", where.data_dir, setting="--escrow-key").x25519()
    json.dump(open_sealed(sealed, private), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def rma_policy(passphrase_file: str | None, accept_unknown: bool, no_backend_wipe: bool) -> RmaPolicy:
    """The RMA choices of ``station rma``: where the customer's passphrase comes from, unknown units, wipe."""
    if passphrase_file is not None:
        ask: AskPassphrase = FilePassphrase(_first_line(Path(passphrase_file)))
    else:
        ask = TerminalPassphrase()
    return RmaPolicy(
        unknown_unit="accept" if accept_unknown else "refuse",
        customer_passphrase=ask,
        backend_wipe=not no_backend_wipe,
    )


class FilePassphrase:
    """The one customer passphrase ``--passphrase-file`` gave, for the returned unit(s) of this run."""

    def __init__(self, passphrase: str) -> None:
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return "FilePassphrase(***)"

    def __call__(self, unit: ReturnedUnit) -> str | None:
        return self._passphrase


class TerminalPassphrase:
    """Asks the bench operator for each returned unit's passphrase (one question at a time, never echoed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, unit: ReturnedUnit) -> str | None:
        with self._lock:
            prompt = (
                f"slot {unit.slot}: customer passphrase for unit {unit.eid} ({unit.label!r}); "
                "empty = wipe through the backend: "
            )
            return getpass.getpass(prompt) or None


def _first_line(path: Path) -> str:
    """The passphrase in ``path``: a secret, so the file must be readable by its owner only."""
    try:
        text, mode = path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read the passphrase file: {reason}", path=str(path)) from None
    if mode & 0o077:
        raise ConfigError(
            f"the passphrase file is readable by others (mode {mode:o}); run chmod 600", path=str(path)
        )
    line = text.splitlines()[0] if text.strip() else ""
    if not line:
        raise ConfigError("the passphrase file is empty", path=str(path))
    return line
