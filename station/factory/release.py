"""Releasing firmware (``station firmware add``): an image entered in ``manifest.json``, re-signed.

>>> import os, tempfile; key, folder = ed25519.Ed25519PrivateKey.generate(), Path(tempfile.mkdtemp())
>>> _ = (folder / "fw.bin").write_bytes(os.urandom(100))      # opaque bytes: no layout is required
>>> add_image(folder, folder / "fw.bin", "Encedo nGINE FW v1.2.3", None, key).fwv
'Encedo nGINE FW v1.2.3'
>>> [image.file for image in current_entries(folder, key)]     # verified with the key's public half
['fw.bin']
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64encode
from station.core.errors import StationError
from station.factory.firmware import (
    MANIFEST,
    SIGNATURE,
    FirmwareImage,
    parse_manifest,
    release_key_id,
    verified_entries,
)


class ReleaseKey(Protocol):
    """An Ed25519 private key in a file (cryptography's) or in a token (``TokenEd25519Key``)."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key(self) -> ed25519.Ed25519PublicKey: ...


def add_image(
    folder: Path, source: Path, fwv: str, fws: str | None, key: ReleaseKey, *, name: str | None = None
) -> FirmwareImage:
    """Copy ``source`` into ``folder`` (as ``name``, default its own name), enter it, sign the manifest.

    An entry for the same file name is replaced; a different file of that name already in the folder is
    refused (StationError), as is an entry the manifest could not hold (ConfigError: a ``fwv`` without a
    version number, an ``fws`` that is not base64 of 64 bytes).
    """
    target = folder / (name or source.name)
    data = _image_bytes(source)
    provisional = FirmwareImage(target.name, len(data), hashlib.sha256(data).hexdigest(), fwv, fws)
    parse_manifest(json.dumps({"images": [provisional.entry()]}).encode(), folder / MANIFEST)  # its shape
    images = [image for image in current_entries(folder, key) if image.file != target.name]
    folder.mkdir(parents=True, exist_ok=True)
    _place(source, target, data)
    write_signed(folder, (*images, provisional), key)
    return provisional


def current_entries(folder: Path, key: ReleaseKey) -> tuple[FirmwareImage, ...]:
    """The folder's entries, verified with ``key``'s public half; none in a folder without a manifest."""
    if not (folder / MANIFEST).exists():
        return ()
    return verified_entries(folder, _public(key))


def write_signed(folder: Path, images: tuple[FirmwareImage, ...], key: ReleaseKey) -> None:
    """Write ``manifest.json`` (sorted by version) and its detached signature, each replaced atomically."""
    ordered = sorted(images, key=lambda image: (image.version_tuple, image.file))
    raw = (json.dumps({"images": [image.entry() for image in ordered]}, indent=2) + "\n").encode()
    signature = key.sign(raw)
    _replace(folder / MANIFEST, raw)
    _replace(folder / SIGNATURE, (b64encode(signature) + "\n").encode())


def public_key_text(key: ReleaseKey) -> str:
    """``[firmware] release_key`` for this key: base64 of its raw public key."""
    return b64encode(_public(key))


def key_id(key: ReleaseKey) -> str:
    return release_key_id(_public(key))


def _public(key: ReleaseKey) -> bytes:
    return key.public_key().public_bytes_raw()


def _image_bytes(source: Path) -> bytes:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise StationError(f"{source}: cannot read the image: {exc.strerror}") from None
    if not data:
        raise StationError(f"{source}: the image is empty")
    return data


def _place(source: Path, target: Path, data: bytes) -> None:
    """Copy the image into the folder; the same bytes already there are kept, other bytes refused."""
    if target.exists():
        if target.read_bytes() != data:
            raise StationError(f"{target} exists and holds other bytes; remove it or choose another --name")
        return
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    if temporary.read_bytes() != data:
        temporary.unlink()
        raise StationError(f"{source} changed while it was copied; try again")
    temporary.replace(target)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
