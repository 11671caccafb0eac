"""``station demo``: a whole station on simulated fixtures, set up in a data directory of its own.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:         # keys are made there, marked for the demo
...     config = demo_config(Path(folder), fixtures=3, family="mixed")
...     [(slot.slot, slot.family) for slot in config.fixtures], config.station.id.startswith("demo-")
([('A1', 'ppa'), ('A2', 'ppa'), ('R1', 'reader')], True)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from station.core.codec import x25519_public_b64
from station.core.config import (
    FirmwareSection,
    FixtureConfig,
    KeysSection,
    Profile,
    ReaderProfile,
    StationConfig,
    StationSection,
)
from station.factory.keys.keystore import FileKeyStore, open_key
from station.records import jws

ESCROW_KEY_NAME = "escrow-DEMO-ONLY"
DEMO_FAMILIES = ("ppa", "readers", "mixed")  # --family: PPA slots, reader slots, or half and half
# The demo readers' global configuration: a name, the "PC/SC" profile, and a template (reference §5, §6).
DEMO_READER_CONFIG = {"config": {"08.s": "PPA line demo readers", "C0": "01"}, "templates": {"00.s": "{uid}"}}
DEMO_LOCATION = "Demo bench"


def demo_config(data_dir: Path, *, fixtures: int, family: str = "ppa") -> StationConfig:
    """A simulated station over ``fixtures`` slots (A1, A2, ...) with keys under ``data_dir/keys``.

    ``family`` "readers" makes every slot a simulated SpringCard reader (R1, R2, ...), "mixed" the second
    half of them; the readers' profile is written into ``data_dir`` beside the keys.
    """
    keys = KeysSection(escrow=f"file:keys/{ESCROW_KEY_NAME}.key")  # the demo's QA and RMA open sealed units
    signing = open_key(keys.signing, data_dir, setting="keys.signing").ed25519()
    escrow = FileKeyStore(data_dir / "keys").x25519(ESCROW_KEY_NAME)
    profile = Profile(user="Demo Unit", secrets="sealed", escrow_public_key=x25519_public_b64(escrow))
    readers = {"ppa": 0, "readers": fixtures, "mixed": fixtures // 2}[family]
    slots = tuple(
        FixtureConfig(slot=_slot_name(i), kind="simulated") for i in range(fixtures - readers)
    ) + tuple(FixtureConfig(slot=f"R{i + 1}", kind="simulated", family="reader") for i in range(readers))
    description = f"demo fixtures={fixtures} family={family}".encode()
    return StationConfig(
        station=StationSection(
            id=f"demo-{jws.key_id(signing.public_key())}", data_dir=str(data_dir), simulated=True
        ),
        keys=keys,
        firmware=FirmwareSection(require=None),
        profiles={"default": profile},
        reader_profiles={"default": _reader_profile(data_dir)} if readers else {},
        fixtures=slots,
        path=str(data_dir / "demo.toml"),
        sha256=hashlib.sha256(description).hexdigest(),
    )


def _reader_profile(data_dir: Path) -> ReaderProfile:
    path = data_dir / "demo-readers.json"
    path.write_text(json.dumps(DEMO_READER_CONFIG, indent=2) + "\n", encoding="utf-8")
    return ReaderProfile(config=str(path), location=DEMO_LOCATION, inventory_prefix="DEMO-")


def escrow_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / f"{ESCROW_KEY_NAME}.key"


def _slot_name(index: int) -> str:
    """A1..A8, B1..B8, ...: rows of eight, as fixtures are laid out on a bench."""
    return f"{chr(ord('A') + index // 8)}{index % 8 + 1}"
