"""How the window (re)opens its station: one configuration, opened again for each login and mode switch.

>>> import tempfile; from station.app.demo import demo_config
>>> with tempfile.TemporaryDirectory() as folder:       # a demo configuration (its keys go in the folder)
...     opener = StationOpener(demo_config(Path(folder), fixtures=2), environ={"BATCH_SECRET": "..."})
...     opener.resolved_data_dir == Path(folder), "BATCH_SECRET" in repr(opener)
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from station.app.station import Station
from station.core.config import StationConfig
from station.core.operator import Operator
from station.pipeline.modes.rma.flow import RmaPolicy


@dataclass(frozen=True)
class StationOpener:
    """The settings every station of this window is opened with; ``open`` takes what changes."""

    config: StationConfig
    data_dir: Path | None = None
    timing: str = "fast"
    environ: Mapping[str, str] | None = field(default=None, repr=False)  # may hold batch secrets
    profile: str | None = None
    reader_profile: str | None = None
    client_timeout: float = 10.0

    def open(
        self, mode: str = "production", operator: Operator | None = None, rma: RmaPolicy | None = None
    ) -> Station:
        return Station.open(
            self.config,
            data_dir=self.data_dir,
            timing=self.timing,
            environ=self.environ,
            operator=operator,
            profile=self.profile,
            client_timeout=self.client_timeout,
            mode=mode,
            reader_profile=self.reader_profile,
            rma=rma,
        )

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir or self.config.resolve(self.config.station.data_dir)
