"""Key custody for the factory authority and the station (development form: key files).

File keys live in the station's data directory, created on first use with mode 0600 inside a 0700
folder. A key file that exists with looser permissions is refused rather than silently used, because an
operator PC is shared. (A PKCS#11 backend for keys in an HSM is the production form; it arrives with the
line-scale issue.)

Example::

    store = FileKeyStore(Path("station-data/keys"))
    checkin = store.x25519("checkin")          # raw 32 bytes, file checkin.key, created if missing
    ca_key = store.p256("factory-ca")          # PEM PKCS#8, file factory-ca.pem
    signing = store.ed25519("station-signing")
    key_id(signing)                            # "3f1c..." (16 hex digits), names the key in records

    ref = open_key("file:keys/factory-ca.pem", data_dir)   # a [keys] URI of station.toml
    ref.p256()

X25519 keys stay raw base64 files (``<name>.key``) because the check-in key is used raw by
``station.ppa.checkin.verify_check``; Ed25519 and P-256 keys are PEM PKCS#8 (``<name>.pem``) so that
``openssl`` and other tools can read them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from station.errors import ConfigError, ProtocolError
from station.ppa.protocol import b64decode, b64encode, p256_uncompressed

PKCS11_NOT_YET = "PKCS#11 key stores arrive with the line-scale issue"
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey


class FileKeyStore:
    """Keys in files under one folder: ``<name>.key`` (raw X25519) and ``<name>.pem`` (PKCS#8)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self.folder)!r})"

    def x25519(self, name: str) -> bytes:
        """The raw 32-byte X25519 private key ``name``, generated on first use."""
        path = self.path(name, ".key")
        text = self._read_or_create(path, lambda: b64encode(os.urandom(32)) + "\n")
        try:
            key = b64decode(text.strip())
        except ProtocolError:
            raise ConfigError("key file is not a base64 key", path=str(path)) from None
        if len(key) != 32:
            raise ConfigError(f"key file holds {len(key)} bytes, expected 32", path=str(path))
        return key

    def ed25519(self, name: str) -> ed25519.Ed25519PrivateKey:
        """The Ed25519 private key ``name`` (PEM PKCS#8), generated on first use."""
        key = self._pem(name, ed25519.Ed25519PrivateKey.generate)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise self._wrong_kind(name, key, "Ed25519")
        return key

    def p256(self, name: str) -> ec.EllipticCurvePrivateKey:
        """The P-256 private key ``name`` (PEM PKCS#8), generated on first use."""
        key = self._pem(name, lambda: ec.generate_private_key(ec.SECP256R1()))
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise self._wrong_kind(name, key, "P-256")
        return key

    def path(self, name: str, suffix: str) -> Path:
        """The file of key ``name``; names are plain file stems, never paths."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ConfigError(f"key name {name!r} must be a plain file name", path=str(self.folder))
        return self.folder / f"{name}{suffix}"

    def _pem(self, name: str, generate: Callable[[], PrivateKey]) -> object:
        path = self.path(name, ".pem")
        text = self._read_or_create(path, lambda: _pem_text(generate()))
        try:
            return serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise ConfigError(
                "key file is not an unencrypted PEM PKCS#8 private key", path=str(path)
            ) from None

    def _wrong_kind(self, name: str, key: object, expected: str) -> ConfigError:
        found = key.curve.name if isinstance(key, ec.EllipticCurvePrivateKey) else type(key).__name__
        return ConfigError(
            f"key file holds a {found} key, expected {expected}", path=str(self.path(name, ".pem"))
        )

    def _read_or_create(self, path: Path, make: Callable[[], str]) -> str:
        """The file's text after the permission check; a missing file is created atomically first."""
        if not path.exists():
            create_exclusive(path, make())
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"key file is readable by others (mode {mode:o}); run chmod 600", path=str(path)
            )
        try:
            return path.read_text("ascii")
        except UnicodeDecodeError:
            raise ConfigError("key file is not ASCII text", path=str(path)) from None
        except OSError as exc:
            raise ConfigError(f"cannot read key file: {exc.strerror}", path=str(path)) from None


def _pem_text(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def create_exclusive(path: Path, text: str) -> None:
    """Write ``text`` to a new 0600 file ``path`` via a temporary file and a link; the first writer wins.

    Two workers starting at once must end up using the same key, and nobody may ever read a
    half-written file: ``os.link`` is atomic and fails if the name already exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker created it first: use theirs
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


# --- key identifiers -------------------------------------------------------------------------------------


def raw_public_bytes(key: PrivateKey | PublicKey) -> bytes:
    """The raw public key: 32 bytes for Ed25519/X25519, the uncompressed point ``04||X||Y`` for P-256."""
    public = key if isinstance(key, PublicKey) else key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return p256_uncompressed(public)
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: PrivateKey | PublicKey | bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw public key (``bytes`` = an already raw public key)."""
    raw = key if isinstance(key, bytes) else raw_public_bytes(key)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- [keys] URIs of station.toml -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRef:
    """One key named by a ``[keys]`` URI: a store and a name in it."""

    store: FileKeyStore
    name: str

    def x25519(self) -> bytes:
        return self.store.x25519(self.name)

    def ed25519(self) -> ed25519.Ed25519PrivateKey:
        return self.store.ed25519(self.name)

    def p256(self) -> ec.EllipticCurvePrivateKey:
        return self.store.p256(self.name)

    def sibling(self, suffix: str) -> Path:
        """A file stored beside the key, e.g. ``sibling(".crt.pem")`` for the CA's certificate."""
        return self.store.path(self.name, suffix)


def open_key(uri: str, data_dir: Path, *, setting: str = "keys") -> KeyRef:
    """Resolve ``file:keys/x.pem`` (relative to ``data_dir``, or absolute) to a KeyRef.

    ``.key`` files are raw X25519 keys and ``.pem`` files PKCS#8 keys; the caller picks the accessor.
    A ``pkcs11:`` URI is refused for now; ``setting`` names the config key in the error.
    """
    if uri.startswith("pkcs11:"):
        raise ConfigError(PKCS11_NOT_YET, key=setting)
    if not uri.startswith("file:") or len(uri) <= len("file:"):
        raise ConfigError(f"key URI {uri!r} must be file:<path> (or pkcs11:...)", key=setting)
    path = Path(uri.removeprefix("file:"))
    if not path.is_absolute():
        path = data_dir / path
    if path.suffix not in (".key", ".pem"):
        raise ConfigError(
            "a key file name ends in .key (raw X25519) or .pem (PKCS#8)", path=str(path), key=setting
        )
    return KeyRef(FileKeyStore(path.parent), path.name.removesuffix(path.suffix))


def open_keystore(uri: str, data_dir: Path, *, setting: str = "keys") -> FileKeyStore:
    """The store (folder) that holds the key ``uri`` names."""
    return open_key(uri, data_dir, setting=setting).store
