"""The simulator's side of a chaos run: every unit it plugged in, what became of it, and which records
belong to it.

Example::

    ledger = read_ledger(Path("ledger.jsonl"))
    ledger.units["a1b2..."].provisioned          # the secure element carries a certificate
    ledger.successful_provisionings["a1b2..."]   # provisioning POSTs answered 200 (one at most)
    unit = ledger.attribute(payload, slot_index={"X1": 0})   # the unit a record speaks about

A record names its unit by ``devid`` (known once verified), ``genuine_id`` (from attestation) or
``eid`` (from personalisation). A run that ended before attestation names none of them; it is the
unit that sat in the record's slot when the run started (``started``; for a resumed run, the restart),
which the ledger knows from its plug-in and swap times.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class SimUnit:
    """One unit as the simulator saw it, from plug-in to swap (or to the end of the run)."""

    devid: str
    genuine_id: str
    slot: int
    plugged_at: float
    gone_at: float = float("inf")
    eid: str | None = None
    touched: bool = False  # the station sent it more than status polls
    crt_sha256: str | None = None  # the certificate in its secure element
    personalised: bool = False
    fwv: str | None = None

    @property
    def provisioned(self) -> bool:
        return self.crt_sha256 is not None


@dataclass
class Ledger:
    units: dict[str, SimUnit] = field(default_factory=dict)  # by devid
    successful_provisionings: Counter[str] = field(default_factory=Counter)  # devid → POSTs answered 200
    refused_provisionings: Counter[str] = field(default_factory=Counter)  # devid → other answers
    faults: Counter[str] = field(default_factory=Counter)  # kind → how often it fired

    def attribute(self, payload: Mapping[str, Any], slot_index: Mapping[str, int]) -> SimUnit | None:
        """The unit a record is about: by its identity, else by its slot and start time."""
        unit = payload.get("unit") or {}
        for key, value in (("devid", unit.get("devid")), ("genuine_id", unit.get("genuine_id"))):
            found = self._by(key, value)
            if found is not None:
                return found
        found = self._by("eid", unit.get("eid"))
        if found is not None:
            return found
        slot = slot_index.get(str((payload.get("fixture") or {}).get("slot")))
        started = _epoch(payload.get("started"))
        if slot is None or started is None:
            return None
        return self._in_slot_at(slot, started)

    def _by(self, key: str, value: object) -> SimUnit | None:
        if not value:
            return None
        if key == "devid":
            return self.units.get(str(value))
        return next((u for u in self.units.values() if getattr(u, key) == value), None)

    def _in_slot_at(self, slot: int, when: float) -> SimUnit | None:
        return next(
            (u for u in self.units.values() if u.slot == slot and u.plugged_at <= when < u.gone_at), None
        )


def read_ledger(path: Path) -> Ledger:
    """Parse the JSON lines ``bench.chaossim`` wrote."""
    ledger = Ledger()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                _apply(ledger, json.loads(line))
    return ledger


def _apply(ledger: Ledger, event: dict[str, Any]) -> None:
    kind = event["event"]
    if kind == "unit":
        ledger.units[event["devid"]] = SimUnit(
            event["devid"], event["genuine_id"], event["slot"], plugged_at=event["at"]
        )
    elif kind == "gone":
        unit = ledger.units[event["devid"]]
        unit.gone_at = min(unit.gone_at, event["at"])
        unit.eid, unit.touched, unit.crt_sha256 = event["eid"], event["touched"], event["crt_sha256"]
        unit.personalised, unit.fwv = event["personalised"], event["fwv"]
    elif kind == "provision":
        counter = ledger.successful_provisionings if event["status"] == 200 else ledger.refused_provisionings
        counter[event["devid"]] += 1
    elif kind == "fault":
        ledger.faults[event["kind"]] += 1


def _epoch(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
