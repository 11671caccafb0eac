"""Firmware and web-app images the station may install, checked when ``firmware_images/`` is loaded.

>>> parse_version("Encedo nGINE FW v1.2.3-DIAG")
(1, 2, 3)
>>> needs_upgrade("Encedo nGINE FW v1.2", "Encedo nGINE FW v1.2.0"), needs_upgrade("v1.1.9", "v1.2")
(False, True)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.core.codec import b64decode
from station.core.errors import ConfigError, ProtocolError, VerificationError
from station.devices.ppa.image import MAGIC, parse_footer, verify_image

MANIFEST = "manifest.json"
_VERSION = re.compile(r"v(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class FirmwareImage:
    """One image file, checked against its manifest entry. ``data`` is the whole file, footer included."""

    version: str
    data: bytes = field(repr=False)
    sha256: str
    kind: str = "fw"
    file: str = ""

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.version)


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
    """The checked images of one folder."""

    def __init__(self, folder: Path, images: tuple[FirmwareImage, ...]) -> None:
        self.folder = folder
        self.images = images

    def __repr__(self) -> str:
        return f"FirmwareCatalog({str(self.folder)!r}, {[image.file for image in self.images]})"

    @classmethod
    def load(cls, folder: Path, vendor_key: bytes | None = None) -> FirmwareCatalog:
        """Read and check ``folder/manifest.json`` and every image it lists (see the module docstring)."""
        manifest = folder / MANIFEST
        entries = _entries(manifest)
        images = tuple(_load_entry(folder, manifest, i, entry) for i, entry in enumerate(entries))
        catalog = cls(folder, images)
        if vendor_key is not None:
            for image in images:
                catalog.verify(image, vendor_key)
        return catalog

    def image_for(self, required: str, kind: str = "fw", *, vendor_key: bytes | None = None) -> FirmwareImage:
        """The newest ``kind`` image whose version is at least ``required``; ConfigError if none is.

        With ``vendor_key`` (the unit's ``fwk``) the chosen image's signature is verified with it.
        """
        wanted = _normal(parse_version(required))
        candidates = [i for i in self.images if i.kind == kind and _normal(i.version_tuple) >= wanted]
        if not candidates:
            raise ConfigError(
                f"no {kind} image of version {required!r} or newer", path=str(self.folder / MANIFEST)
            )
        image = max(candidates, key=lambda i: _normal(i.version_tuple))
        if vendor_key is not None:
            self.verify(image, vendor_key)
        return image

    def verify(self, image: FirmwareImage, vendor_key: bytes) -> None:
        """Check the footer signature with ``vendor_key``; VerificationError naming the file."""
        try:
            verify_image(image.data, vendor_key, kind=image.kind)
        except ProtocolError as exc:
            raise VerificationError(f"{self.folder / image.file}: {exc}") from None


def _entries(manifest: Path) -> list[Any]:
    try:
        document = json.loads(manifest.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError("firmware manifest not found", path=str(manifest)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"firmware manifest is not readable JSON: {exc}", path=str(manifest)) from None
    images = document.get("images") if isinstance(document, dict) else None
    if not isinstance(images, list):
        raise ConfigError('firmware manifest needs {"images": [...]}', path=str(manifest), key="images")
    return images


def _load_entry(folder: Path, manifest: Path, index: int, entry: Any) -> FirmwareImage:
    key = f"images[{index}]"

    def fail(message: str, field_name: str | None = None) -> ConfigError:
        where = f"{key}.{field_name}" if field_name else key
        return ConfigError(message, path=str(manifest), key=where)

    if not isinstance(entry, dict):
        raise fail("an image entry is a JSON object")
    for name in ("file", "kind", "version", "sha256", "signature"):
        if not isinstance(entry.get(name), str):
            raise fail("missing or not a string", name)
    if entry["kind"] not in MAGIC:
        raise fail(f"kind must be one of {', '.join(sorted(MAGIC))}", "kind")
    if Path(entry["file"]).name != entry["file"]:
        raise fail("file must be a plain file name in the firmware folder", "file")
    path = folder / entry["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read image {path}: {exc.strerror}", "file") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"].lower():
        raise fail(f"{path}: SHA-256 is {digest}, the manifest says {entry['sha256']}", "sha256")
    _check_footer(data, entry, path, fail)
    return FirmwareImage(entry["version"], data, digest, entry["kind"], entry["file"])


def _check_footer(data: bytes, entry: dict[str, Any], path: Path, fail: Callable[..., ConfigError]) -> None:
    try:
        footer = parse_footer(data, kind=entry["kind"])
        signature = b64decode(entry["signature"])
    except ProtocolError as exc:
        raise fail(f"{path}: {exc}") from None
    if footer.version != entry["version"]:
        raise fail(f"{path}: the image footer says version {footer.version!r}", "version")
    if footer.signature != signature:
        raise fail(f"{path}: the image footer carries another signature", "signature")
    try:
        parse_version(footer.version)
    except ProtocolError as exc:
        raise fail(str(exc), "version") from None
