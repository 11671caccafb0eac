"""Firmware catalog: the shipped test images, version logic, and every way a manifest can be wrong."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core import codec
from station.core.errors import ConfigError, ProtocolError, VerificationError
from station.devices.ppa.image import TEST_VENDOR_PUBLIC_KEY, build_image
from station.factory.firmware import FirmwareCatalog, needs_upgrade, parse_version

SHIPPED = Path(__file__).resolve().parents[2] / "firmware_images"
VENDOR = codec.b64decode(TEST_VENDOR_PUBLIC_KEY)
FW = "Encedo nGINE FW v1.2.3"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the shipped firmware_images/."""
    target = tmp_path / "fw"
    shutil.copytree(SHIPPED, target)
    return target


def manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "manifest.json").read_text()))


def write_manifest(folder: Path, document: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(document))


def test_shipped_images_load_and_verify_with_the_test_vendor_key() -> None:
    catalog = FirmwareCatalog.load(SHIPPED, VENDOR)
    assert {(i.kind, i.version) for i in catalog.images} == {
        ("fw", FW),
        ("ui", "Encedo Manager v0.69 TEST"),
    }
    image = catalog.image_for("Encedo nGINE FW v1.2.2", vendor_key=VENDOR)
    assert image.version == FW
    assert image.file == "test-firmware-v1.2.3.bin"
    assert image.data == (SHIPPED / image.file).read_bytes()
    assert "data" not in repr(image)
    assert catalog.image_for("Encedo Manager v0.60", kind="ui").kind == "ui"


def test_another_vendor_key_is_a_verification_error_naming_the_file() -> None:
    other = codec.ed25519_public_raw(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError, match=r"test-firmware-v1\.2\.3\.bin"):
        FirmwareCatalog.load(SHIPPED, other)
    catalog = FirmwareCatalog.load(SHIPPED)
    with pytest.raises(VerificationError, match="does not verify with the vendor key"):
        catalog.image_for(FW, vendor_key=other)


def test_newest_image_at_or_above_the_requirement_is_chosen(folder: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    document: dict[str, Any] = {"images": []}
    for version in ("v1.2.3", "v1.10.0", "v1.3"):
        data = build_image(b"payload " + version.encode(), f"Encedo nGINE FW {version}", key, kind="fw")
        name = f"fw-{version}.bin"
        (folder / name).write_bytes(data)
        document["images"].append(
            {
                "file": name,
                "kind": "fw",
                "version": f"Encedo nGINE FW {version}",
                "sha256": hashlib.sha256(data).hexdigest(),
                "signature": codec.b64encode(data[-64:]),
            }
        )
    write_manifest(folder, document)
    catalog = FirmwareCatalog.load(folder, codec.ed25519_public_raw(key))
    assert catalog.image_for("Encedo nGINE FW v1.2.2").version == "Encedo nGINE FW v1.10.0"
    assert catalog.image_for("Encedo nGINE FW v1.10").version == "Encedo nGINE FW v1.10.0"
    with pytest.raises(ConfigError, match=r"no fw image of version 'Encedo nGINE FW v2\.0' or newer"):
        catalog.image_for("Encedo nGINE FW v2.0")
    with pytest.raises(ConfigError, match="no ui image"):
        catalog.image_for("v0.1", kind="ui")


def test_versions() -> None:
    assert parse_version("Encedo nGINE FW v1.2.3") == (1, 2, 3)
    assert parse_version("Encedo nGINE FW v1.2.2-DIAG") == (1, 2, 2)
    assert parse_version("Encedo Manager v0.69 TEST") == (0, 69)
    with pytest.raises(ProtocolError, match="no version number"):
        parse_version("Encedo nGINE FW")
    assert needs_upgrade("Encedo nGINE FW v1.2.2", "Encedo nGINE FW v1.2.3")
    assert not needs_upgrade("Encedo nGINE FW v1.2.3", "Encedo nGINE FW v1.2.3")
    assert not needs_upgrade("Encedo nGINE FW v1.2.3", "Encedo nGINE FW v1.2.2")
    assert not needs_upgrade("Encedo nGINE FW v1.2", "Encedo nGINE FW v1.2.0")
    assert needs_upgrade("Encedo nGINE FW v1.9.9", "Encedo nGINE FW v1.10")
    assert not needs_upgrade("Encedo nGINE FW v1.2.2-DIAG", "Encedo nGINE FW v1.2.2")


def test_changed_image_is_refused_naming_file_and_entry(folder: Path) -> None:
    path = folder / "test-firmware-v1.2.3.bin"
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="SHA-256 is") as info:
        FirmwareCatalog.load(folder)
    assert info.value.key == "images[0].sha256"
    assert info.value.path == str(folder / "manifest.json")
    assert "test-firmware-v1.2.3.bin" in str(info.value)


def test_missing_image_file(folder: Path) -> None:
    (folder / "test-webroot-v0.69.tar").unlink()
    with pytest.raises(ConfigError, match=r"cannot read image .*test-webroot-v0\.69\.tar") as info:
        FirmwareCatalog.load(folder)
    assert info.value.key == "images[1].file"


def test_bad_json_and_missing_manifest(folder: Path, tmp_path: Path) -> None:
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON") as info:
        FirmwareCatalog.load(folder)
    assert info.value.path == str(folder / "manifest.json")
    write_manifest(folder, [1, 2])
    with pytest.raises(ConfigError, match="needs"):
        FirmwareCatalog.load(folder)
    with pytest.raises(ConfigError, match="firmware manifest not found"):
        FirmwareCatalog.load(tmp_path / "empty")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "Encedo nGINE FW v9.9.9", "footer says version"),
        ("signature", codec.b64encode(bytes(64)), "another signature"),
        ("kind", "ui", "no ui footer"),
        ("kind", "bootloader", "kind must be one of"),
        ("file", "../escape.bin", "plain file name"),
        ("sha256", 5, "missing or not a string"),
    ],
)
def test_entry_that_disagrees_with_its_image(folder: Path, field: str, value: Any, message: str) -> None:
    document = manifest(folder)
    document["images"][0][field] = value
    write_manifest(folder, document)
    with pytest.raises(ConfigError, match=message) as info:
        FirmwareCatalog.load(folder)
    assert info.value.key is not None and info.value.key.startswith("images[0]")
