"""The firmware step over real HTTP: images of random bytes, a signed manifest, the unit's own check.

The simulated units accept an image by its SHA-256 (``tests/firmwaretools.py`` enters it in the
simulator's list, as Encedo's signature makes real units accept Encedo's files); the station knows only
its signed manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from station.core import codec
from station.core.errors import ConfigError
from station.core.events import Outcome
from tests import simtools
from tests.firmwaretools import FirmwareFolder, firmware_folder
from tests.pipeline.conftest import VERSION, LineFactory, failure_of, ok_json, step_of

OLD, NEW, NEWER = "Encedo nGINE FW v1.2.2", "Encedo nGINE FW v1.2.3", "Encedo nGINE FW v1.3.0"
UPLOAD = ("POST", "/api/system/upgrade/upload_fw")


def uploads(requests_seen: Iterable[tuple[str, str]]) -> int:
    """How many firmware uploads reached the unit."""
    return sum(1 for request in requests_seen if request == UPLOAD)


def test_random_bytes_are_uploaded_checked_by_the_unit_and_installed(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    folder = firmware_folder(tmp_path, "Encedo nGINE FW v1.2.1", NEW)  # an older image is never chosen
    image = next(i for i in folder_images(folder) if i["fwv"] == NEW)
    line = line_factory(firmware=folder.config(NEW))
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    version = ok_json(simtools.get(line.url(), VERSION))
    assert (version["fwv"], version["fws"]) == (NEW, image["fws"])  # both compared with the signed entry
    assert verdict.record.payload["unit"]["fwv"] == NEW
    assert image["file"] in step_of(verdict, "firmware")["detail"]["message"]
    assert uploads(line.unit().requests_seen) == 1
    intents = [e for e in line.station.store.run_journal(verdict.run_id) if e.phase == "intent"]
    assert [e.detail["sha256"] for e in intents if e.step == "firmware"] == [image["sha256"]]


def test_a_unit_with_newer_firmware_is_never_downgraded(line_factory: LineFactory, tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, NEW)
    line = line_factory(firmware=folder.config(NEW), network=[{"fwv": NEWER}])
    unit = line.extra_units[0]
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert "meets the requirement" in step_of(verdict, "firmware")["detail"]["message"]
    assert uploads(unit.requests_seen) == 0
    assert ok_json(simtools.get(unit.http_url, VERSION))["fwv"] == NEWER


def test_an_image_the_unit_refuses_is_never_installed(line_factory: LineFactory, tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path)
    folder.add(NEW, accepted=False)  # signed by the factory, but not an image the unit verifies
    line = line_factory(firmware=folder.config(NEW))
    (verdict,) = line.run()

    step, code, _ = failure_of(verdict)
    assert (step, code) == ("firmware", "image-refused")
    assert line.unit().state.firmware.pending_install is None
    assert ok_json(simtools.get(line.url(), VERSION))["fwv"] == OLD


def test_a_unit_reporting_another_fws_than_the_entry_fails_the_upgrade(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    folder = firmware_folder(tmp_path)
    folder.add(NEW, fws=codec.b64encode(os.urandom(64)))  # the factory noted another signature
    line = line_factory(firmware=folder.config(NEW))
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("firmware", "upgrade-failed")
    assert NEW in message and "fws" in message


def test_a_file_changed_after_start_up_is_not_uploaded(line_factory: LineFactory, tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, NEW)
    line = line_factory(firmware=folder.config(NEW))
    (image,) = folder_images(folder)
    (folder.path / image["file"]).write_bytes(os.urandom(image["size"]))  # same size, other bytes
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("firmware", "image-changed")
    assert image["file"] in message and "nothing was uploaded" in message
    assert uploads(line.unit().requests_seen) == 0


# --- refused at start-up -----------------------------------------------------------------------------------


def test_a_tampered_manifest_stops_the_station_naming_the_file(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    folder = firmware_folder(tmp_path, NEW)
    manifest = folder.path / "manifest.json"
    document = json.loads(manifest.read_text())
    document["images"][0]["fwv"] = "Encedo nGINE FW v9.9.9"
    manifest.write_text(json.dumps(document, indent=2))
    with pytest.raises(
        ConfigError, match=r"manifest\.json: the signature in manifest\.json\.sig does not verify"
    ):
        line_factory(firmware=folder.config(NEW))


def test_a_manifest_signed_with_another_key_stops_the_station(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    folder = firmware_folder(tmp_path, NEW)
    other = FirmwareFolder(tmp_path / "other")
    with pytest.raises(ConfigError, match=r"does not verify with \[firmware\] release_key"):
        line_factory(firmware={**folder.config(NEW), "release_key": other.release_key})


def test_a_file_whose_hash_differs_stops_the_station(line_factory: LineFactory, tmp_path: Path) -> None:
    folder = firmware_folder(tmp_path, NEW)
    (image,) = folder_images(folder)
    path = folder.path / image["file"]
    path.write_bytes(os.urandom(image["size"]))
    with pytest.raises(ConfigError, match=f"{image['file']}: SHA-256 is"):
        line_factory(firmware=folder.config(NEW))


def test_a_requirement_without_a_release_key_or_an_image_stops_the_station(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    folder = firmware_folder(tmp_path, NEW)
    with pytest.raises(
        ConfigError, match=r"\[firmware.release_key\] a firmware requirement needs release_key"
    ):
        line_factory(firmware={"dir": str(folder.path), "require": NEW})
    with pytest.raises(ConfigError, match=r"no image of version 'Encedo nGINE FW v1\.3\.0' or newer"):
        line_factory(firmware=folder.config(NEWER))


def folder_images(folder: FirmwareFolder) -> list[dict[str, Any]]:
    return list(json.loads((folder.path / "manifest.json").read_text())["images"])
