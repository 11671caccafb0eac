"""Firmware catalog: the signed manifest, opaque images, versions, and every way a folder can be wrong."""

from __future__ import annotations

import json
import logging
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core import codec
from station.core.errors import ConfigError, ProtocolError, VerificationError
from station.factory.firmware import FirmwareCatalog, needs_upgrade, parse_version
from station.factory.release import add_image, write_signed
from station.sim.ppa.images import judge
from tests.firmwaretools import (
    REPO,
    SHIPPED_DIR,
    SHIPPED_FWV,
    SHIPPED_RELEASE_KEY,
    FirmwareFolder,
    firmware_folder,
)

FW = "Encedo nGINE FW v1.2.3"


def key_bytes(folder: FirmwareFolder) -> bytes:
    return codec.b64decode(folder.release_key)


def manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "manifest.json").read_text()))


def test_the_shipped_test_folder_verifies_with_the_shipped_station_toml_key() -> None:
    shipped = tomllib.loads((REPO / "station.toml").read_text())["firmware"]
    assert shipped["release_key"] == SHIPPED_RELEASE_KEY
    catalog = FirmwareCatalog.load(SHIPPED_DIR, codec.b64decode(SHIPPED_RELEASE_KEY))
    (image,) = catalog.images
    assert (image.file, image.fwv, image.size) == ("test-firmware-v1.2.3.bin", SHIPPED_FWV, 4096)
    data = catalog.read(image)
    assert not data.endswith(b"ENCFWIMG") and b"ENCFWIMG" not in data  # no footer of any kind
    signed = judge(data, "fw", codec.b64decode("8Gs6oMnSLs+oTEVafXC6KNXZIk4fMo3HDlUsqf0MvJM="))
    assert signed is not None and signed.version == SHIPPED_FWV  # the simulator's built-in list
    assert image.fws == codec.b64encode(signed.signature)


def test_random_bytes_load_and_the_newest_image_at_or_above_the_requirement_is_chosen(tmp_path: Path) -> None:
    folder = firmware_folder(
        tmp_path, "Encedo nGINE FW v1.2.3", "Encedo nGINE FW v1.10.0", "Encedo nGINE FW v1.3"
    )
    catalog = FirmwareCatalog.load(folder.path, key_bytes(folder))
    assert catalog.image_for("Encedo nGINE FW v1.2.2").fwv == "Encedo nGINE FW v1.10.0"
    assert catalog.image_for("Encedo nGINE FW v1.10").fwv == "Encedo nGINE FW v1.10.0"
    assert catalog.image_for("Encedo nGINE FW v1.2.3").fwv == "Encedo nGINE FW v1.10.0"
    with pytest.raises(ConfigError, match=r"no image of version 'Encedo nGINE FW v2\.0' or newer"):
        catalog.image_for("Encedo nGINE FW v2.0")


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


# --- the signature -----------------------------------------------------------------------------------------


def test_a_changed_entry_breaks_the_signature_and_the_error_names_the_manifest(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    document = manifest(folder.path)
    document["images"][0]["fwv"] = "Encedo nGINE FW v9.9.9"  # a hand edit: the signature no longer covers it
    (folder.path / "manifest.json").write_text(json.dumps(document, indent=2) + "\n")
    with pytest.raises(
        ConfigError, match=r"manifest\.json: the signature in manifest\.json\.sig does not verify"
    ):
        FirmwareCatalog.load(folder.path, key_bytes(folder))


def test_a_manifest_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(ConfigError, match=r"with \[firmware\] release_key \(key id [0-9a-f]{16}\)") as info:
        FirmwareCatalog.load(folder.path, other)
    assert info.value.path == str(folder.path / "manifest.json")


@pytest.mark.parametrize(
    "signature", ["", "not base64!", codec.b64encode(bytes(64)), codec.b64encode(bytes(10))]
)
def test_a_bad_signature_file_is_refused(tmp_path: Path, signature: str) -> None:
    folder = firmware_folder(tmp_path, FW)
    (folder.path / "manifest.json.sig").write_text(signature)
    with pytest.raises(ConfigError, match="does not verify"):
        FirmwareCatalog.load(folder.path, key_bytes(folder))


def test_a_missing_signature_or_manifest_is_refused(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    (folder.path / "manifest.json.sig").unlink()
    with pytest.raises(ConfigError, match=r"manifest\.json\.sig: manifest signature not found"):
        FirmwareCatalog.load(folder.path, key_bytes(folder))
    with pytest.raises(ConfigError, match="firmware manifest not found"):
        FirmwareCatalog.load(tmp_path / "empty", key_bytes(folder))


# --- the files ---------------------------------------------------------------------------------------------


def test_a_file_whose_hash_differs_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    (image,) = FirmwareCatalog.load(folder.path, key_bytes(folder)).images
    path = folder.path / image.file
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        ConfigError, match=f"{image.file}: SHA-256 is [0-9a-f]{{64}}; the signed manifest says"
    ) as info:
        FirmwareCatalog.load(folder.path, key_bytes(folder))
    assert info.value.path == str(path)


def test_a_file_whose_size_differs_or_that_is_missing_is_refused(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    (image,) = FirmwareCatalog.load(folder.path, key_bytes(folder)).images
    path = folder.path / image.file
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ConfigError, match=f"{image.file}: {image.size + 1} bytes; the signed manifest says"):
        FirmwareCatalog.load(folder.path, key_bytes(folder))
    path.unlink()
    with pytest.raises(
        ConfigError, match=f"{image.file}: listed in manifest.json, but there is no such file"
    ):
        FirmwareCatalog.load(folder.path, key_bytes(folder))


def test_a_file_changed_after_start_up_is_never_returned_for_upload(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    catalog = FirmwareCatalog.load(folder.path, key_bytes(folder))
    image = catalog.image_for(FW)
    assert len(catalog.read(image)) == image.size
    (folder.path / image.file).write_bytes(b"\0" * image.size)  # same size, other bytes
    with pytest.raises(VerificationError, match=f"{image.file} changed since start-up"):
        catalog.read(image)


def test_files_the_manifest_does_not_name_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = firmware_folder(tmp_path, FW)
    (folder.path / "Encedo-nGINE-v9.9.9.bin").write_bytes(b"not entered")
    (folder.path / "README.md").write_text("notes")
    with caplog.at_level(logging.WARNING, logger="station.factory.firmware"):
        catalog = FirmwareCatalog.load(folder.path, key_bytes(folder))
    assert [image.fwv for image in catalog.images] == [FW]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "Encedo-nGINE-v9.9.9.bin is not in manifest.json: ignored" in warnings[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fwv", "Encedo nGINE FW", "no version number"),
        ("fws", "c2hvcnQ=", "fws must be base64 of 64 bytes"),
        ("file", "../escape.bin", "plain file name"),
        ("file", "manifest.json", "plain file name"),
        ("size", "3000", "size must be"),
        ("size", True, "size must be"),
        ("sha256", "ABC", "64 lower-case hex"),
        ("sha256", 5, "missing or not a string"),
        ("kind", "fw", "unknown keys kind"),
    ],
)
def test_a_signed_entry_of_the_wrong_shape_is_refused(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    folder = firmware_folder(tmp_path, FW)
    document = manifest(folder.path)
    document["images"][0][field] = value
    raw = json.dumps(document).encode()
    (folder.path / "manifest.json").write_bytes(raw)
    (folder.path / "manifest.json.sig").write_text(codec.b64encode(folder.key.sign(raw)))  # signed; wrong
    with pytest.raises(ConfigError, match=message) as info:
        FirmwareCatalog.load(folder.path, key_bytes(folder))
    assert info.value.key is not None and info.value.key.startswith("images[0]")


def test_a_file_listed_twice_is_refused(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    (image,) = FirmwareCatalog.load(folder.path, key_bytes(folder)).images
    write_signed(folder.path, (image, image), folder.key)
    with pytest.raises(ConfigError, match=f"files listed twice: {image.file}"):
        FirmwareCatalog.load(folder.path, key_bytes(folder))


# --- releasing ---------------------------------------------------------------------------------------------


def test_add_image_refuses_to_re_sign_a_manifest_changed_by_hand(tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, FW)
    document = manifest(folder.path)
    document["images"][0]["fwv"] = "Encedo nGINE FW v9.9.9"
    (folder.path / "manifest.json").write_text(json.dumps(document))
    source = tmp_path / "new.bin"
    source.write_bytes(b"\1" * 100)
    with pytest.raises(ConfigError, match="does not verify"):
        add_image(folder.path, source, "Encedo nGINE FW v1.2.4", None, folder.key)
    assert not (folder.path / "new.bin").exists()


def test_add_image_replaces_the_entry_of_the_same_file_and_refuses_other_bytes_under_its_name(
    tmp_path: Path,
) -> None:
    folder = firmware_folder(tmp_path)
    source = tmp_path / "fw.bin"
    source.write_bytes(b"\1" * 100)
    add_image(folder.path, source, "Encedo nGINE FW v1.2.3", None, folder.key)
    add_image(folder.path, source, "Encedo nGINE FW v1.2.4", None, folder.key)  # a corrected fwv
    assert [i.fwv for i in FirmwareCatalog.load(folder.path, key_bytes(folder)).images] == [
        "Encedo nGINE FW v1.2.4"
    ]
    other = tmp_path / "other" / "fw.bin"
    other.parent.mkdir()
    other.write_bytes(b"\2" * 100)
    with pytest.raises(Exception, match="exists and holds other bytes"):
        add_image(folder.path, other, "Encedo nGINE FW v1.2.5", None, folder.key)


def test_the_shipped_folder_copies_and_loads_elsewhere(tmp_path: Path) -> None:
    copy = tmp_path / "images"
    shutil.copytree(SHIPPED_DIR, copy)
    assert len(FirmwareCatalog.load(copy, codec.b64decode(SHIPPED_RELEASE_KEY)).images) == 1
