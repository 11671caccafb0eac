"""A station's data directory, opened one way by every caller: station, command line and window.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     data = StationData.open(None, data_dir=Path(folder))      # a reader: it creates nothing
...     data.store_path.name, data.has_signing_key(), data.trusted_keys(), data.ca_certificate()
('records.sqlite3', False, {}, None)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.app.home import production_home
from station.core.config import KeysSection, StationConfig, StationSection
from station.core.errors import ConfigError
from station.core.privatefiles import private_dir, refuse_open_dir
from station.factory.keys.keystore import KeyRef, TokenKeyRef, open_configured, open_file_key
from station.factory.keys.tokenkeys import KeyKind, TokenEd25519Key

if TYPE_CHECKING:
    from station.records.store.sqlite import SqliteStore

DEFAULT_DATA_DIR = Path(StationSection.data_dir)  # without a configuration: ./station-data


@dataclass(frozen=True)
class StationData:
    """The one way to open a station's data directory: record store, signing key, trusted keys, CA.

    Build it with ``StationData.open``; every caller (``Station.open``, ``station records|keys|users|
    audit ...``, the window's accounts) goes through it instead of opening the pieces by hand.
    """

    data_dir: Path
    keys: KeysSection = field(default_factory=KeysSection)
    store_file: Path | None = None  # --store: another store file; None = <data_dir>/records.sqlite3
    trust: tuple[Path, ...] = ()  # --trust: PEM files of other stations' record keys
    base_dir: Path | None = None  # the configuration's folder ([keys] pin_file is relative to it)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False, compare=False)
    create: bool = False  # store(): create the store (a station, account commands) or open an existing one
    home: Path | None = None  # a production station's own data directory when this is elsewhere (home.py)
    remote: bool = False  # [backend] kind = "remote": the CA certificate is not kept in the data directory
    remote_ca: Path | None = None  # [backend] ca_certificate (resolved), the remote backend's CA certificate

    @classmethod
    def open(
        cls,
        config: StationConfig | None,
        *,
        data_dir: Path | None = None,
        store: Path | None = None,
        trust: Iterable[Path] = (),
        environ: Mapping[str, str] | None = None,
        create: bool = False,
    ) -> StationData:
        """``data_dir``, else the configuration's ``data_dir``, else ./station-data; keys from ``config``.

        Nothing is opened yet: a missing store or key is reported by the method that needs it.
        """
        if data_dir is None:
            data_dir = config.resolve(config.station.data_dir) if config is not None else DEFAULT_DATA_DIR
        return cls(
            data_dir=data_dir,
            keys=config.keys if config is not None else KeysSection(),
            store_file=store,
            trust=tuple(trust),
            base_dir=config.base_dir if config is not None else None,
            environ=dict(os.environ if environ is None else environ),
            create=create,
            home=production_home(config, data_dir, store),
            remote=config is not None and config.backend.kind == "remote",
            remote_ca=_remote_ca_file(config),
        )

    @property
    def store_path(self) -> Path:
        from station.records.store.sqlite import DEFAULT_FILENAME

        if self.store_file is not None:
            return self.store_file
        refuse_open_dir(self.data_dir)  # the store is in it: refused open to others, to readers too
        return self.data_dir / DEFAULT_FILENAME

    def checkin_key(self) -> KeyRef:
        """The check-in key (a file key, raw X25519): what the station's local backend answers with."""
        return open_file_key(self.keys.checkin, self.data_dir, setting="keys.checkin")

    def store(self) -> SqliteStore:
        """The station's store: created when ``create``, else RecordError if there is none."""
        from station.records.store.sqlite import SqliteStore

        if self.create:
            private_dir(self.data_dir)  # a new station's: 0700; an existing one open to others: refused
        return SqliteStore(self.store_path, create=self.create)

    def signing_key(self) -> Ed25519PrivateKey | TokenEd25519Key:
        """The record-signing key (a token key logs in with the configured PIN when it signs)."""
        return self._signing_ref().ed25519()

    def signing_public_key(self) -> Ed25519PublicKey:
        """The record-signing public key; for a token key read from its public object (no PIN)."""
        ref = self._signing_ref()
        if isinstance(ref, TokenKeyRef):
            public = ref.public_key(KeyKind.ED25519)
            assert isinstance(public, Ed25519PublicKey)  # asked for by kind
            return public
        return ref.ed25519().public_key()

    def has_signing_key(self) -> bool:
        """True for a token key or a file key that exists (readers must not create one)."""
        ref = self._signing_ref()
        return isinstance(ref, TokenKeyRef) or ref.sibling(".pem").exists()

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        """Key id -> key for checking records: this station's signing key (if any), the ``--trust`` keys."""
        from station.records.jws import trusted_keys_from

        own = [self.signing_public_key()] if self.has_signing_key() else []
        return trusted_keys_from([*own, *read_trusted_keys(self.trust)])

    def ca_certificate(self) -> x509.Certificate | None:
        """The factory CA certificate kept beside the CA key; None before the station's first start.

        With a remote backend: the one ``[backend] ca_certificate`` names (None without that setting:
        only the running station can ask the service).
        """
        from station.factory.backend import CA_CERT_SUFFIX

        if self.remote:
            # Imported here: it loads the HTTP client, which reading local records never needs.
            from station.factory.remote import read_ca_certificate

            return None if self.remote_ca is None else read_ca_certificate(self.remote_ca)
        path = self._ref("ca").sibling(CA_CERT_SUFFIX)
        return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None

    def _signing_ref(self) -> KeyRef | TokenKeyRef:
        return self._ref("signing")

    def _ref(self, role: str) -> KeyRef | TokenKeyRef:
        return open_configured(self.keys, role, self.data_dir, base_dir=self.base_dir, environ=self.environ)


def _remote_ca_file(config: StationConfig | None) -> Path | None:
    if config is None or config.backend.kind != "remote" or config.backend.ca_certificate is None:
        return None
    return config.resolve(config.backend.ca_certificate)


def read_trusted_keys(paths: Iterable[Path]) -> list[Ed25519PublicKey]:
    """``--trust`` PEM files: Ed25519 public keys; anything else is a ConfigError naming the file."""
    keys = []
    for path in paths:
        try:
            loaded = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not a PEM public key"
            raise ConfigError(f"cannot read the trusted record key: {reason}", path=str(path)) from None
        if not isinstance(loaded, Ed25519PublicKey):
            raise ConfigError("a trusted record key must be an Ed25519 public key (PEM)", path=str(path))
        keys.append(loaded)
    return keys
