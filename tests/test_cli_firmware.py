"""``station firmware add|list``: an image entered and the manifest signed, as a release manager does it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from station.cli.main import main
from station.core import codec
from station.factory.firmware import FirmwareCatalog

V123, V124 = "Encedo nGINE FW v1.2.3", "Encedo nGINE FW v1.2.4"


def write_config(folder: Path, release_key: str | None = None) -> Path:
    path = folder / "station.toml"
    trusted = f'release_key = "{release_key}"\n' if release_key else ""
    path.write_text(
        '[station]\nid = "st01"\ndata_dir = "data"\n'
        '[keys]\nrelease = "file:keys/firmware-release.pem"\n'
        f'[firmware]\ndir = "images"\n{trusted}'
    )
    return path


def image(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(2500))  # as Encedo ships it: the station reads no layout
    return path


def test_add_then_list_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    first = image(tmp_path, "Encedo-nGINE-1.2.3.bin")
    assert main(["firmware", "add", str(first), "--version", V123, "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert f"added {tmp_path / 'images' / first.name}: {V123}, 2500 bytes" in out
    assert "created a new release key" in err
    release_key = err.split('release_key = "')[1].split('"')[0]  # the line to put into station.toml
    assert (tmp_path / "data" / "keys" / "firmware-release.pem").stat().st_mode & 0o077 == 0

    write_config(tmp_path, release_key)
    fws = codec.b64encode(os.urandom(64))
    second = image(tmp_path, "Encedo-nGINE-1.2.4.bin")
    assert (
        main(["firmware", "add", str(second), "--version", V124, "--fws", fws, "--config", str(config)]) == 0
    )
    capsys.readouterr()

    catalog = FirmwareCatalog.load(tmp_path / "images", codec.b64decode(release_key))  # as the station starts
    assert [(i.file, i.fwv, i.fws) for i in catalog.images] == [
        (first.name, V123, None),
        (second.name, V124, fws),
    ]
    assert catalog.read(catalog.image_for(V124)) == second.read_bytes()

    assert main(["firmware", "list", "--config", str(config)]) == 0
    out, _ = capsys.readouterr()
    assert f"{first.name}  2500 bytes  {V123}" in out and f"fws {fws}" in out
    assert "signature: verifies with release key" in out


def test_list_reports_a_changed_manifest_and_files_it_ignores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert (
        main(["firmware", "add", str(image(tmp_path, "fw.bin")), "--version", V123, "--config", str(config)])
        == 0
    )
    release_key = capsys.readouterr().err.split('release_key = "')[1].split('"')[0]
    write_config(tmp_path, release_key)
    manifest = tmp_path / "images" / "manifest.json"
    document = json.loads(manifest.read_text())
    document["images"][0]["fwv"] = V124
    manifest.write_text(json.dumps(document))
    (tmp_path / "images" / "stray.bin").write_bytes(b"x")

    assert main(["firmware", "list", "--config", str(config)]) == 1
    out, _ = capsys.readouterr()
    assert "problem: " in out and "manifest.json: the signature in manifest.json.sig does not verify" in out
    assert "ignored (not in the manifest): stray.bin" in out


def test_a_key_the_station_does_not_trust_signs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trusted = codec.b64encode(bytes(range(32)))
    config = write_config(tmp_path, trusted)
    other = f"file:{tmp_path / 'other-release.pem'}"
    code = main(
        [
            "firmware",
            "add",
            str(image(tmp_path, "fw.bin")),
            "--version",
            V123,
            "--key",
            other,
            "--config",
            str(config),
        ]
    )
    assert code == 2
    assert "is not the one the station trusts" in capsys.readouterr().err
    assert not (tmp_path / "images").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--version", "the newest"], "no version number"),
        (["--version", V123, "--fws", "c2hvcnQ="], "fws must be base64 of 64 bytes"),
        (["--version", V123, "--key", "file:release.key"], "file:<path>.pem or pkcs11:"),
    ],
)
def test_an_entry_the_manifest_cannot_hold_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    config = write_config(tmp_path)
    assert main(["firmware", "add", str(image(tmp_path, "fw.bin")), *arguments, "--config", str(config)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "images" / "manifest.json").exists()
