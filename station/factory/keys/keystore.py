"""Key custody for the factory authority and the station: key files, or the same roles in a PKCS#11 token.

>>> with tempfile.TemporaryDirectory() as folder:         # keys are made on first use, mode 0600
...     store = FileKeyStore(Path(folder))
...     key = store.ed25519("station-signing"); Path(folder, "station-signing.pem").chmod(0o644)
...     store.ed25519("station-signing")                   # an operator PC is shared
Traceback (most recent call last):
station.core.errors.ConfigError: .../station-signing.pem: key file is readable by others (mode 644); run ...
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from station.core.codec import b64decode, b64encode, p256_uncompressed
from station.core.config import ESCROW_FILE_ONLY, KeysSection
from station.core.errors import ConfigError, ProtocolError
from station.core.privatefiles import make_private_dirs
from station.factory.escrow import EscrowKey
from station.factory.keys.filemode import refuse_shared
from station.factory.keys.pkcs11 import TokenAccess
from station.factory.keys.pkcs11uri import Pkcs11Uri, is_pkcs11_uri, parse_pkcs11_uri
from station.factory.keys.tokenkeys import (
    KeyKind,
    TokenEcdsaKey,
    TokenEd25519Key,
    create_token_key,
    open_token_key,
    token_public_key,
)

KEY_ROLES = ("ca", "signing", "checkin")
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey


class FileKeyStore:
    """Keys in files under one folder: ``<name>.key`` (raw X25519) and ``<name>.pem`` (PKCS#8)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self.folder)!r})"

    def x25519(self, name: str, *, create: bool = True) -> bytes:
        """The raw 32-byte X25519 private key ``name``, generated on first use (``create``) or required."""
        path = self.path(name, ".key")
        text = self._read_or_create(path, (lambda: b64encode(os.urandom(32)) + "\n") if create else None)
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

    def _read_or_create(self, path: Path, make: Callable[[], str] | None) -> str:
        """The file's text after the permission check; a missing file is created atomically first
        (``make`` None: a missing file is an error, for keys made elsewhere such as the escrow key)."""
        if not path.exists():
            if make is None:
                raise ConfigError("key file does not exist", path=str(path))
            create_exclusive(path, make())
        refuse_shared(path, "key file")
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
    make_private_dirs(path.parent)  # the data directory too, when the first key makes it
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

    def x25519(self, *, create: bool = True) -> bytes:
        return self.store.x25519(self.name, create=create)

    def ed25519(self) -> ed25519.Ed25519PrivateKey:
        return self.store.ed25519(self.name)

    def p256(self) -> ec.EllipticCurvePrivateKey:
        return self.store.p256(self.name)

    def sibling(self, suffix: str) -> Path:
        """A file stored beside the key, e.g. ``sibling(".crt.pem")`` for the CA's certificate."""
        return self.store.path(self.name, suffix)


@dataclass(frozen=True)
class TokenKeyRef:
    """One key named by a ``pkcs11:`` URI: a key pair in a token; files beside it go to ``folder``."""

    uri: Pkcs11Uri
    access: TokenAccess
    folder: Path

    def x25519(self, *, create: bool = True) -> bytes:
        raise ConfigError(
            f"{self.uri}: X25519 keys (the check-in and escrow keys) are file keys; only ca and signing "
            "may be pkcs11:"
        )

    def ed25519(self) -> TokenEd25519Key:
        key = open_token_key(self.uri, self.access, KeyKind.ED25519)
        assert isinstance(key, TokenEd25519Key)  # open_token_key checked the kind
        return key

    def p256(self) -> TokenEcdsaKey:
        key = open_token_key(self.uri, self.access, KeyKind.P256)
        assert isinstance(key, TokenEcdsaKey)
        return key

    def public_key(self, kind: KeyKind | None = None) -> PublicKey:
        """The pair's public key, read from the token's public object (no login, no PIN)."""
        return token_public_key(self.uri, self.access, kind)

    def sibling(self, suffix: str) -> Path:
        """A file kept for the token key, e.g. the CA certificate ``keys/<token>.<object>.crt.pem``."""
        return self.folder / f"{self.uri.slug}{suffix}"


def open_key(
    uri: str, data_dir: Path, *, setting: str = "keys", token: TokenAccess | None = None
) -> KeyRef | TokenKeyRef:
    """Resolve ``file:keys/x.pem`` (relative to ``data_dir``, or absolute) or a ``pkcs11:`` URI.

    ``.key`` files are raw X25519 keys and ``.pem`` files PKCS#8 keys; the caller picks the accessor.
    A ``pkcs11:`` URI needs ``token`` (module and PIN source, from ``[keys]``); ``setting`` names the
    config key in errors. Nothing is read or logged in to until an accessor is called.
    """
    if is_pkcs11_uri(uri):
        if token is None:
            raise ConfigError("a pkcs11: key needs [keys] pkcs11_module and pin_file or pin_env", key=setting)
        return TokenKeyRef(parse_pkcs11_uri(uri, setting=setting), token, data_dir / "keys")
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


def open_file_key(uri: str, data_dir: Path, *, setting: str = "keys") -> KeyRef:
    """Like ``open_key`` for keys that are always files (check-in, escrow): a pkcs11: URI is refused."""
    ref = open_key(uri, data_dir, setting=setting)
    assert isinstance(ref, KeyRef)  # without ``token`` a pkcs11: URI raised ConfigError
    return ref


def open_keystore(uri: str, data_dir: Path, *, setting: str = "keys") -> FileKeyStore:
    """The store (folder) that holds the key ``uri`` names."""
    return open_file_key(uri, data_dir, setting=setting).store


def token_access(
    keys: KeysSection, *, base_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> TokenAccess:
    """Module and PIN source from ``[keys]``; ``pin_file`` is relative to the config file's folder."""
    if not keys.pkcs11_module:
        raise ConfigError("a pkcs11: key needs the PKCS#11 module path", key="keys.pkcs11_module")
    pin_file = None
    if keys.pin_file:
        pin_file = Path(keys.pin_file)
        if not pin_file.is_absolute():
            pin_file = (base_dir or Path.cwd()) / pin_file
    return TokenAccess(keys.pkcs11_module, pin_file, keys.pin_env, dict(environ or {}))


def open_configured(
    keys: KeysSection,
    role: str,
    data_dir: Path,
    *,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> KeyRef | TokenKeyRef:
    """The key ``[keys] <role>`` names (``ca``, ``signing`` or ``checkin``), file or token."""
    if role not in KEY_ROLES:
        raise ValueError(f"unknown key role {role!r}; one of {', '.join(KEY_ROLES)}")
    uri: str = getattr(keys, role)
    access = token_access(keys, base_dir=base_dir, environ=environ) if is_pkcs11_uri(uri) else None
    return open_key(uri, data_dir, setting=f"keys.{role}", token=access)


def configured_public_key(keys: KeysSection, role: str, data_dir: Path) -> PublicKey | None:
    """The public key of ``[keys] <role>`` without the PIN; None for a file key not created yet."""
    ref = open_configured(keys, role, data_dir)
    kind = KeyKind.P256 if role == "ca" else KeyKind.ED25519
    if isinstance(ref, TokenKeyRef):
        return ref.public_key(kind)
    if role == "checkin":
        raise ValueError("the check-in key is raw X25519: use x25519_public_key(ref.x25519())")
    if not ref.sibling(".pem").exists():
        return None
    return (ref.p256() if kind is KeyKind.P256 else ref.ed25519()).public_key()


def open_escrow(keys: KeysSection, data_dir: Path) -> EscrowKey | None:
    """The escrow private key ``[keys] escrow`` names (a QA or RMA bench); None when none is configured.

    The key is made elsewhere (it never is on first use, unlike the station's own keys): a missing,
    shared (not 0600) or malformed file, a ``.pem`` name or a ``pkcs11:`` URI is a ConfigError naming
    ``keys.escrow``. No supported token can hold an X25519 key (``config.ESCROW_FILE_ONLY``).
    """
    uri = keys.escrow
    if uri is None:
        return None
    if is_pkcs11_uri(uri):
        raise ConfigError(ESCROW_FILE_ONLY, key="keys.escrow")
    ref = open_file_key(uri, data_dir, setting="keys.escrow")
    path = ref.sibling(".key")
    if not uri.endswith(".key"):
        raise ConfigError("the escrow key is a raw X25519 key file: its name ends in .key", key="keys.escrow")
    if not path.is_file():
        raise ConfigError("the escrow key file does not exist", path=str(path), key="keys.escrow")
    refuse_shared(path, "escrow key file", key="keys.escrow")
    raw = ref.x25519(create=False)  # checks the mode again, then the content
    return EscrowKey(x25519.X25519PrivateKey.from_private_bytes(raw), f"[keys] escrow = file:{path}")


def init_token_key(
    keys: KeysSection,
    uri: str,
    kind: str | None,
    data_dir: Path,
    *,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> PublicKey:
    """Create the key pair ``uri`` names in its token (``station keys init --pkcs11 URI``).

    ``kind`` is ``p256`` or ``ed25519``; None takes it from the role ``uri`` has in ``[keys]`` (``ca`` is
    P-256, ``signing`` Ed25519). An existing pair of that label is never replaced.
    """
    ref = open_key(
        uri, data_dir, setting="--pkcs11", token=token_access(keys, base_dir=base_dir, environ=environ)
    )
    if not isinstance(ref, TokenKeyRef):
        raise ConfigError("--pkcs11 needs a pkcs11: URI; file keys are created on first use")
    return create_token_key(ref.uri, ref.access, _kind_for(keys, ref.uri, kind))


def _kind_for(keys: KeysSection, uri: Pkcs11Uri, kind: str | None) -> KeyKind:
    kinds = {k.value: k for k in KeyKind}
    if kind is not None:
        if kind not in kinds:
            raise ConfigError(f"unknown key type {kind!r}; choose one of {', '.join(kinds)}", key="--type")
        return kinds[kind]
    for role, role_kind in (("ca", KeyKind.P256), ("signing", KeyKind.ED25519)):
        configured: str = getattr(keys, role)
        if is_pkcs11_uri(configured) and parse_pkcs11_uri(configured, setting=f"keys.{role}") == uri:
            return role_kind
    raise ConfigError(
        f"{uri} is neither [keys] ca nor signing: say --type p256 or --type ed25519", key="--type"
    )
