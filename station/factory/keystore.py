"""Key custody for the factory authority and the station (development form: key files).

File keys live in the station's data directory, created on first use with mode 0600 inside a 0700
folder. A key file that exists with looser permissions is refused rather than silently used, because an
operator PC is shared. (A PKCS#11 backend for keys in an HSM is the production form.)

Example::

    store = FileKeyStore(Path("station-data/keys"))
    private = store.x25519("checkin")          # created if missing
    public = x25519_public_key(private)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from station.errors import ConfigError
from station.ppa.protocol import b64decode, b64encode


class FileKeyStore:
    """Raw keys in files under one folder; the file names are ``<name>.key``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def x25519(self, name: str) -> bytes:
        """The raw 32-byte X25519 private key ``name``, generated on first use."""
        return self._raw(name, 32)

    def _raw(self, name: str, size: int) -> bytes:
        path = self.folder / f"{name}.key"
        if not path.exists():
            self._create(path, os.urandom(size))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"key file is readable by others (mode {mode:o}); run chmod 600", path=str(path))
        try:
            key = b64decode(path.read_text("ascii").strip())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"key file is not a base64 key: {exc}", path=str(path)) from None
        if len(key) != size:
            raise ConfigError(f"key file holds {len(key)} bytes, expected {size}", path=str(path))
        return key

    def _create(self, path: Path, key: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(b64encode(key) + "\n")
