"""What a slot worker needs from a mode's flow: a plan of steps, the unit's id, and a record draft.

>>> from station.pipeline.modes.readers import ReadersFlow
>>> flow = ReadersFlow(client=None, device_id="SC-0001", deps=None)    # a mode's factory makes one per unit
>>> flow.mode, flow.unit_id, len(flow.plan())
('readers', 'SC-0001', 7)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from station.devices.ppa.client import PpaClient
from station.fixtures.base import Fixture
from station.pipeline.drafts import RunFrame
from station.pipeline.engine import Group, RunResult, Step
from station.pipeline.modes.production import Prior
from station.records import model


class Flow(Protocol):
    """One run of one mode over one unit."""

    mode: str

    def plan(self) -> list[Step | Group]: ...

    @property
    def unit_id(self) -> str | None:
        """The unit's id once the flow learnt it (devid, or the genuine id before check-in)."""

    def draft(self, result: RunResult, frame: RunFrame) -> model.RecordDraft:
        """The record of this run: public facts, the step timeline, the verdict, links (``drafts.py``)."""


@dataclass(frozen=True)
class SlotUnit:
    """What a flow factory gets for one unit: the slot, a PPA client on its link, the resumed run."""

    fixture: Fixture
    client: PpaClient
    prior: Prior | None = None


FlowFactory = Callable[[SlotUnit], Flow]
