"""A record's payload as typed fields, for everything that reads records back (verification, views, labels).

>>> RecordPayload.parse({"schema": "ppa-station/record/1", "mode": "qa", "record_id": "rec-1", "station": {}})
Traceback (most recent call last):
station.core.errors.RecordError: record payload: station.id is missing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.core.errors import RecordError
from station.core.operator import Operator
from station.core.strictjson import json_kind
from station.records.model import (
    Failure,
    FixtureRef,
    Links,
    ProvisioningEvidence,
    ReaderIdentity,
    StationInfo,
    UnitIdentity,
)

UNIT_FIELDS = ("devid", "genuine_id", "eid", "eid_sign", "instanceid", "hwv", "fwv", "blv")
READER_FIELDS = ("serial", "product", "firmware", "inventory", "config_id", "config_sha256")


@dataclass(frozen=True)
class PayloadStep:
    """One step as signed: times as RFC 3339 text, ``detail`` as the public values it recorded."""

    name: str
    outcome: str
    started: str
    finished: str
    attempts: int
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class RecordPayload:
    """Every field of a record payload (docs/records.md), typed."""

    schema: str
    record_id: str
    station: StationInfo
    seq: int
    prev: str
    mode: str
    operator: Operator
    fixture: FixtureRef
    unit: UnitIdentity | ReaderIdentity  # ReaderIdentity in mode ``readers`` only
    provisioning: ProvisioningEvidence | None
    personalization: Mapping[str, Any] | None
    steps: tuple[PayloadStep, ...]
    outcome: str
    failure: Failure | None
    links: Links
    started: str
    finished: str
    simulated: bool

    @classmethod
    def parse(cls, payload: Mapping[str, Any], *, what: str = "record payload") -> RecordPayload:
        """The typed fields of ``payload``; RecordError naming ``what`` and the first malformed field."""
        top = _Fields(payload, "", what)
        schema, mode = top.text("schema"), top.text("mode")
        provisioning = top.opt_object("provisioning")
        failure = top.opt_object("failure")
        return cls(
            schema=schema,
            record_id=top.text("record_id"),
            station=_station(top.object("station")),
            seq=top.integer("seq"),
            prev=top.text("prev"),
            mode=mode,
            operator=Operator(**top.object("operator").texts("id", "role")),
            fixture=FixtureRef(**_fixture(top.object("fixture"))),
            unit=_unit(top.object("unit"), mode),
            provisioning=None if provisioning is None else _provisioning(provisioning),
            personalization=top.opt_mapping("personalization"),
            steps=tuple(_step(step) for step in top.objects("steps")),
            outcome=top.text("outcome"),
            failure=None if failure is None else Failure(**failure.texts("step", "code", "message")),
            links=Links(**top.object("links").opt_texts("supersedes", "verifies")),
            started=top.text("started"),
            finished=top.text("finished"),
            simulated=top.flag("simulated"),
        )

    @property
    def ppa_unit(self) -> UnitIdentity | None:
        """The unit block of a PPA record (production, QA, RMA); None for a reader's."""
        return self.unit if isinstance(self.unit, UnitIdentity) else None

    @property
    def index_ids(self) -> tuple[str | None, str | None]:
        """The store's ``devid`` and ``genuine_id`` columns: a reader is indexed by its DeviceId."""
        if isinstance(self.unit, ReaderIdentity):
            return self.unit.device_id, None
        return self.unit.devid, self.unit.genuine_id

    @property
    def production_pass(self) -> bool:
        """A passing production record: the one a unit may have, the one the unit registry points at."""
        return self.mode == "production" and self.outcome == "pass"


def _station(block: _Fields) -> StationInfo:
    return StationInfo(**block.texts("id", "software", "config_sha256", "key_id"))


def _fixture(block: _Fields) -> dict[str, Any]:
    return {"slot": block.text("slot"), "port": block.opt_text("port")}


def _unit(block: _Fields, mode: str) -> UnitIdentity | ReaderIdentity:
    if mode == "readers":
        return ReaderIdentity(device_id=block.text("device_id"), **block.opt_texts(*READER_FIELDS))
    return UnitIdentity(**block.opt_texts(*UNIT_FIELDS))


def _provisioning(block: _Fields) -> ProvisioningEvidence:
    return ProvisioningEvidence(
        **block.texts("crt", "crt_sha256", "attestation_key_sha1"),
        refusal_status=block.opt_integer("refusal_status"),
        confirmed=block.opt_flag("confirmed", default=True),  # records before the field: read back
    )


def _step(block: _Fields) -> PayloadStep:
    return PayloadStep(
        name=block.text("name"),
        outcome=block.text("outcome"),
        started=block.text("started"),
        finished=block.text("finished"),
        attempts=block.integer("attempts"),
        detail=block.mapping("detail"),
    )


class _Fields:
    """One JSON object of the payload and its dotted path; accessors fail naming the field."""

    def __init__(self, data: Mapping[str, Any], path: str, what: str) -> None:
        self.data, self.path, self.what = data, path, what

    def error(self, name: str, problem: str) -> RecordError:
        where = f"{self.path}.{name}" if self.path else name
        return RecordError(f"{self.what}: {where} {problem}")

    def _get(self, name: str, kind: type | tuple[type, ...], wanted: str, *, optional: bool = False) -> Any:
        value = self.data.get(name)
        if value is None:
            if optional:
                return None
            raise self.error(name, "is missing" if name not in self.data else f"is null, expected {wanted}")
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise self.error(name, f"is {json_kind(value)}, expected {wanted}")
        return value

    def text(self, name: str) -> str:
        return str(self._get(name, str, "text"))

    def opt_text(self, name: str) -> str | None:
        value = self._get(name, str, "text or null", optional=True)
        return None if value is None else str(value)

    def texts(self, *names: str) -> dict[str, str]:
        return {name: self.text(name) for name in names}

    def opt_texts(self, *names: str) -> dict[str, str | None]:
        return {name: self.opt_text(name) for name in names}

    def integer(self, name: str) -> int:
        return int(self._get(name, int, "an integer"))

    def opt_integer(self, name: str) -> int | None:
        value = self._get(name, int, "an integer or null", optional=True)
        return None if value is None else int(value)

    def flag(self, name: str) -> bool:
        return bool(self._get(name, bool, "true or false"))

    def opt_flag(self, name: str, *, default: bool) -> bool:
        value = self._get(name, bool, "true, false or null", optional=True)
        return default if value is None else bool(value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self._get(name, Mapping, "an object")
        return value

    def opt_mapping(self, name: str) -> Mapping[str, Any] | None:
        value: Mapping[str, Any] | None = self._get(name, Mapping, "an object or null", optional=True)
        return value

    def object(self, name: str) -> _Fields:
        return self._nested(name, self.mapping(name))

    def opt_object(self, name: str) -> _Fields | None:
        value = self.opt_mapping(name)
        return None if value is None else self._nested(name, value)

    def objects(self, name: str) -> list[_Fields]:
        items = self._get(name, list, "a list")
        nested = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise self.error(f"{name}[{index}]", f"is {json_kind(item)}, expected an object")
            nested.append(self._nested(f"{name}[{index}]", item))
        return nested

    def _nested(self, name: str, value: Mapping[str, Any]) -> _Fields:
        return _Fields(value, f"{self.path}.{name}" if self.path else name, self.what)
