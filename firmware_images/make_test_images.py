"""Rebuild the TEST-ONLY firmware and web-app images and ``manifest.json`` in this folder.

The images are signed with ``TEST-ONLY-vendor-signing-key.pem``, a key published in this repository and
trusted only by the simulator's factory-default ``fwk``. Real units reject them. The output is
deterministic (fixed payloads, fixed tar metadata, Ed25519 signatures are deterministic), so running
this script again reproduces the shipped files byte for byte.

Usage (from the repository root)::

    .venv/bin/python firmware_images/make_test_images.py
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.devices.ppa.image import build_image, parse_footer
from station.devices.ppa.protocol import b64encode

HERE = Path(__file__).resolve().parent
KEY_FILE = HERE / "TEST-ONLY-vendor-signing-key.pem"
FW_FILE, FW_VERSION = "test-firmware-v1.2.3.bin", "Encedo nGINE FW v1.2.3"
UI_FILE, UI_VERSION = "test-webroot-v0.69.tar", "Encedo Manager v0.69 TEST"
NOTICE = b"TEST ONLY - not Encedo software - signed with a published test key\n"


def load_key(path: Path = KEY_FILE) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TypeError(f"{path} does not hold an Ed25519 private key")
    return key


def firmware_payload() -> bytes:
    """4 KiB: the notice, then a fixed pseudo-random body standing in for code."""
    return NOTICE + hashlib.shake_256(b"ppa-station test firmware v1.2.3").digest(4096 - len(NOTICE))


def webroot_payload() -> bytes:
    """A tar archive like ``webroot.tar``: one index page and the notice, with fixed metadata."""
    files = {
        "index.html": b"<!doctype html><title>TEST ONLY web app</title><p>Not the Encedo Manager.</p>\n",
        "TEST-ONLY.txt": NOTICE,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_all(key: ed25519.Ed25519PrivateKey) -> dict[str, bytes]:
    """Every output file name mapped to its bytes: the two images and ``manifest.json``."""
    images = {
        FW_FILE: ("fw", build_image(firmware_payload(), FW_VERSION, key, kind="fw")),
        UI_FILE: ("ui", build_image(webroot_payload(), UI_VERSION, key, kind="ui")),
    }
    entries = [_manifest_entry(name, kind, image) for name, (kind, image) in images.items()]
    manifest = json.dumps({"images": entries}, indent=2) + "\n"
    return {**{name: image for name, (_, image) in images.items()}, "manifest.json": manifest.encode()}


def _manifest_entry(name: str, kind: str, image: bytes) -> dict[str, str]:
    footer = parse_footer(image, kind=kind)
    return {
        "file": name,
        "kind": kind,
        "version": footer.version,
        "sha256": hashlib.sha256(image).hexdigest(),
        "signature": b64encode(footer.signature),
    }


def main() -> None:
    for name, data in build_all(load_key()).items():
        (HERE / name).write_bytes(data)
        print(f"wrote {HERE / name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
