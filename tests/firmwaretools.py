"""Firmware folders for tests: random-byte images (no footer), a manifest signed by a test release key.

``FirmwareFolder.add`` makes the simulated units of this process accept an image by its SHA-256
(``station.sim.ppa.images``), the way Encedo's signature makes real units accept Encedo's files; the
station learns nothing of that, only the signed manifest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64encode
from station.factory.firmware import FirmwareImage
from station.factory.release import add_image
from station.sim.ppa.images import encedo_signs

REPO = Path(__file__).resolve().parents[1]
SHIPPED_DIR = REPO / "firmware_images"
# Public half of docs/demo-release/TEST-ONLY-firmware-release.pem: what the shipped station.toml trusts.
SHIPPED_RELEASE_KEY = "Arlt98Rx/8z2vRGuNU8dmKrWHzJA7nQujnc6iQLNJnM="
SHIPPED_FWV = "Encedo nGINE FW v1.2.3"


@dataclass
class FirmwareFolder:
    """A firmware folder in a test's temporary directory and the release key its manifest is signed with."""

    path: Path
    key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    @property
    def release_key(self) -> str:
        """``[firmware] release_key`` for this folder."""
        return b64encode(self.key.public_key().public_bytes_raw())

    def add(
        self, fwv: str, *, accepted: bool = True, fws: str | None = None, size: int = 3000
    ) -> FirmwareImage:
        """Random bytes entered as ``fwv``; ``accepted``: simulated units verify them (check_fw 200).

        The entry's ``fws`` is the one the units will report, unless ``fws`` says otherwise.
        """
        source = self.path.parent / f"incoming-{os.urandom(4).hex()}.bin"
        source.write_bytes(os.urandom(size))
        if accepted:
            signed = encedo_signs(source.read_bytes(), fwv)
            fws = fws or b64encode(signed.signature)
        name = f"fw-{fwv.rsplit(' ', 1)[-1]}-{os.urandom(2).hex()}.bin"
        image = add_image(self.path, source, fwv, fws, self.key, name=name)
        source.unlink()
        return image

    def config(self, require: str) -> dict[str, str]:
        """The ``[firmware]`` table of a station using this folder."""
        return {"dir": str(self.path), "require": require, "release_key": self.release_key}


def firmware_folder(parent: Path, *versions: str) -> FirmwareFolder:
    """A new folder under ``parent`` holding one accepted image per version."""
    folder = FirmwareFolder(parent / "firmware_images")
    folder.path.mkdir(parents=True, exist_ok=True)
    for fwv in versions:
        folder.add(fwv)
    return folder


def shipped_config(require: str) -> dict[str, str]:
    """``[firmware]`` for the repository's TEST folder (its image is in the simulator's built-in list)."""
    return {"dir": str(SHIPPED_DIR), "require": require, "release_key": SHIPPED_RELEASE_KEY}
