"""What the window shows before any event: station id, profile, slots (and which are readers), line database.

>>> import tempfile; from pathlib import Path; from station.app.demo import demo_config
>>> with tempfile.TemporaryDirectory() as folder:                # two PPA slots, two reader slots
...     setup = WindowSetup.of_config(demo_config(Path(folder), fixtures=4, family="mixed"), "default")
>>> setup.slots, setup.readers, setup.line_db
(('A1', 'A2', 'R1', 'R2'), ('R1', 'R2'), None)
"""

from __future__ import annotations

from dataclasses import dataclass

from station.app.station import Station
from station.core.config import FixtureConfig, StationConfig


@dataclass(frozen=True)
class WindowSetup:
    station_id: str
    profile: str
    slots: tuple[str, ...]
    line_db: str | None = None
    readers: tuple[str, ...] = ()
    rows: int | None = None  # the bench map ([fixtures] rows / columns); None: from the slot names
    columns: int | None = None

    @classmethod
    def of(cls, station: Station) -> WindowSetup:
        return cls.of_config(station.config, station.profile_name)

    @classmethod
    def of_config(cls, config: StationConfig, profile: str) -> WindowSetup:
        line = config.store.line
        # host/database only: the user part or the query of a URL may carry a password
        where = line.rsplit("@", 1)[-1].split("?", 1)[0] if line else None
        slots = tuple(fixture.slot for fixture in config.fixtures)
        readers = tuple(fixture.slot for fixture in config.fixtures if is_reader(fixture))
        bench = config.fixture_hardware
        return cls(config.station.id, profile, slots, where, readers, bench.rows, bench.columns)


def is_reader(fixture: FixtureConfig) -> bool:
    """A SpringCard reader slot: a Companion Service fixture, or a simulated reader."""
    return fixture.kind == "companion" or fixture.family == "reader"
