"""Firmware images the station may install: ``manifest.json``, signed by the factory's release key.

Image files are opaque bytes, uploaded as Encedo ships them; the manifest (file, size, SHA-256, ``fwv``,
``fws``) and its detached signature ``manifest.json.sig`` are checked at start-up (docs/architecture.md).

>>> parse_version("nGINE FW v1.2.3-DIAG"), needs_upgrade("v1.2", "v1.2.0"), needs_upgrade("v1.1", "v1.2")
((1, 2, 3), False, True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64decode
from station.core.errors import ConfigError, ProtocolError, VerificationError

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
ENTRY_KEYS = ("file", "size", "sha256", "fwv", "fws")
_VERSION = re.compile(r"v(\d+(?:\.\d+)*)")
_SHA256 = re.compile(r"[0-9a-f]{64}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FirmwareImage:
    """One signed manifest entry; its file's bytes are read (and checked again) when it is uploaded."""

    file: str
    size: int
    sha256: str
    fwv: str
    fws: str | None = None  # base64 of the 64-byte signature a unit reports after installing it

    @property
    def version(self) -> str:
        return self.fwv

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.fwv)

    def entry(self) -> dict[str, Any]:
        """The manifest entry (JSON object) for this image."""
        fields: dict[str, Any] = {
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "fwv": self.fwv,
        }
        if self.fws is not None:
            fields["fws"] = self.fws
        return fields


def parse_version(text: str) -> tuple[int, ...]:
    """``"Encedo nGINE FW v1.2.3"`` → ``(1, 2, 3)``: the last ``v<digits>[.<digits>...]`` in the text.

    Suffixes such as ``-DIAG`` or `` TEST`` are ignored; ProtocolError if there is no version number.
    """
    found = _VERSION.findall(text) if isinstance(text, str) else []
    if not found:
        raise ProtocolError(f"no version number (v1.2.3) in {text!r}")
    return tuple(int(part) for part in found[-1].split("."))


def needs_upgrade(current_fwv: str, required_fwv: str) -> bool:
    """Whether a unit reporting ``current_fwv`` is below ``required_fwv`` (1.2 equals 1.2.0)."""
    return _normal(parse_version(current_fwv)) < _normal(parse_version(required_fwv))


def _normal(version: tuple[int, ...]) -> tuple[int, ...]:
    trimmed = list(version)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    return tuple(trimmed)


class FirmwareCatalog:
    """The signed manifest of one folder, its files checked."""

    def __init__(self, folder: Path, images: tuple[FirmwareImage, ...]) -> None:
        self.folder = folder
        self.images = images

    def __repr__(self) -> str:
        return f"FirmwareCatalog({str(self.folder)!r}, {[image.file for image in self.images]})"

    @classmethod
    def load(cls, folder: Path, release_key: bytes) -> FirmwareCatalog:
        """Verify ``manifest.json`` with ``release_key``, then each file it lists; ConfigError names the file.

        Files the manifest does not name are logged as ignored (a warning), never uploaded.
        """
        images = verified_entries(folder, release_key)
        for image in images:
            check_file(folder, image)
        for name in unlisted_files(folder, images):
            log.warning("firmware: %s is not in %s: ignored", folder / name, MANIFEST)
        return cls(folder, images)

    def image_for(self, required: str) -> FirmwareImage:
        """The newest image whose ``fwv`` is at least ``required``; ConfigError if none is."""
        wanted = _normal(parse_version(required))
        candidates = [i for i in self.images if _normal(i.version_tuple) >= wanted]
        if not candidates:
            raise ConfigError(f"no image of version {required!r} or newer", path=str(self.folder / MANIFEST))
        return max(candidates, key=lambda i: _normal(i.version_tuple))

    def read(self, image: FirmwareImage) -> bytes:
        """The file's bytes, checked again against the signed entry; VerificationError naming the file."""
        path = self.folder / image.file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise VerificationError(f"{path}: cannot read the image: {exc.strerror}") from None
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != image.size or digest != image.sha256:
            raise VerificationError(
                f"{path} changed since start-up: {len(data)} bytes, SHA-256 {digest}; the signed manifest "
                f"says {image.size} bytes, SHA-256 {image.sha256}"
            )
        return data


def verified_entries(folder: Path, release_key: bytes) -> tuple[FirmwareImage, ...]:
    """The entries of ``folder/manifest.json`` after its signature verified with ``release_key``."""
    manifest, signature_file = folder / MANIFEST, folder / SIGNATURE
    raw = _read(manifest, "firmware manifest")
    text = _read(signature_file, "manifest signature").decode("ascii", errors="replace").strip()
    try:
        signature = b64decode(text)
        ed25519.Ed25519PublicKey.from_public_bytes(release_key).verify(signature, raw)
    except (ProtocolError, InvalidSignature, ValueError):
        raise ConfigError(
            f"the signature in {SIGNATURE} does not verify with [firmware] release_key "
            f"(key id {release_key_id(release_key)}): the manifest was changed or signed with another key",
            path=str(manifest),
        ) from None
    return parse_manifest(raw, manifest)


def parse_manifest(raw: bytes, manifest: Path) -> tuple[FirmwareImage, ...]:
    """The entries of a manifest's bytes, their shape checked (ConfigError naming the entry)."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"firmware manifest is not readable JSON: {exc}", path=str(manifest)) from None
    images = document.get("images") if isinstance(document, dict) else None
    if not isinstance(images, list):
        raise ConfigError('firmware manifest needs {"images": [...]}', path=str(manifest), key="images")
    entries = tuple(_entry(manifest, i, entry) for i, entry in enumerate(images))
    names = [entry.file for entry in entries]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"files listed twice: {', '.join(repeated)}", path=str(manifest), key="images")
    return entries


def check_file(folder: Path, image: FirmwareImage) -> None:
    """The listed file is there, with the signed size and SHA-256; ConfigError naming the file."""
    path = folder / image.file
    if not path.is_file():
        raise ConfigError(f"listed in {MANIFEST}, but there is no such file", path=str(path))
    data = _read(path, "firmware image")
    if len(data) != image.size:
        raise ConfigError(f"{len(data)} bytes; the signed manifest says {image.size}", path=str(path))
    digest = hashlib.sha256(data).hexdigest()
    if digest != image.sha256:
        raise ConfigError(f"SHA-256 is {digest}; the signed manifest says {image.sha256}", path=str(path))


def unlisted_files(folder: Path, images: tuple[FirmwareImage, ...]) -> list[str]:
    """Files in ``folder`` the manifest does not name (README and dot files aside): never uploaded."""
    listed = {image.file for image in images} | {MANIFEST, SIGNATURE}
    return sorted(
        path.name
        for path in folder.iterdir()
        if path.is_file()
        and path.name not in listed
        and not path.name.startswith(".")
        and not path.name.upper().startswith("README")
    )


def release_key_id(public: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw public key (as ``keystore.key_id``)."""
    return hashlib.sha256(public).hexdigest()[:16]


def release_public_key(text: str) -> bytes:
    """``[firmware] release_key``: base64 of a raw 32-byte Ed25519 public key; ProtocolError if not."""
    raw = b64decode(text)
    if len(raw) != 32:
        raise ProtocolError(f"is {len(raw)} bytes, expected a 32-byte Ed25519 public key (base64)")
    return raw


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", path=str(path)) from None


def _entry(manifest: Path, index: int, entry: Any) -> FirmwareImage:
    key = f"images[{index}]"

    def fail(message: str, field_name: str | None = None) -> ConfigError:
        where = f"{key}.{field_name}" if field_name else key
        return ConfigError(message, path=str(manifest), key=where)

    if not isinstance(entry, dict):
        raise fail("an image entry is a JSON object")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise fail(f"unknown keys {', '.join(unknown)}; allowed: {', '.join(ENTRY_KEYS)}")
    for name in ("file", "sha256", "fwv"):
        if not isinstance(entry.get(name), str):
            raise fail("missing or not a string", name)
    file, sha256, fwv, fws = entry["file"], entry["sha256"], entry["fwv"], entry.get("fws")
    if not file or Path(file).name != file or file in (MANIFEST, SIGNATURE) or file.startswith("."):
        raise fail("file must be a plain file name in the firmware folder", "file")
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise fail("size must be the file's length in bytes", "size")
    if not _SHA256.fullmatch(sha256):
        raise fail("sha256 must be 64 lower-case hex digits", "sha256")
    try:
        parse_version(fwv)
    except ProtocolError as exc:
        raise fail(str(exc), "fwv") from None
    if fws is not None and not _is_signature(fws):
        raise fail("fws must be base64 of 64 bytes (as the unit reports it)", "fws")
    return FirmwareImage(file, size, sha256, fwv, fws)


def _is_signature(text: Any) -> bool:
    try:
        return isinstance(text, str) and len(b64decode(text)) == 64
    except ProtocolError:
        return False
