"""The manufacturing record of docs/records.md: what the pipeline fills in, and the payload that gets signed.

>>> draft = RecordDraft("qa", Operator("B0042", "qa"), FixtureRef("A1"), UnitIdentity("2023b758c209269a"),
...                     steps=(), outcome="pass", started=utc_now(), finished=utc_now(), simulated=True)
>>> payload = build_payload(draft, station=StationInfo("line1-st01", SOFTWARE, "0" * 64, "0123456789abcdef"),
...                         seq=1, prev=GENESIS_PREV, record_id="5f0c7a9e-2b1d-4c3e-9a8f-6e5d4c3b2a10")
>>> payload["unit"]["devid"], payload["failure"], payload["started"].endswith("Z")    # validated on the way
('2023b758c209269a', None, True)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from station import __version__
from station.core.errors import RecordError
from station.core.operator import Operator
from station.records.validate import SCHEMA, validate_payload

SOFTWARE = f"ppa-station {__version__}"
GENESIS_PREV = "0" * 64  # the ``prev`` of a station's first record


@dataclass(frozen=True)
class StationInfo:
    """The signing station, as written into every record's ``station`` block."""

    id: str
    software: str
    config_sha256: str
    key_id: str


@dataclass(frozen=True)
class FixtureRef:
    """The physical slot; ``port`` is the USB port path (None for simulated and network fixtures)."""

    slot: str
    port: str | None = None


@dataclass(frozen=True)
class UnitIdentity:
    """What the unit said about itself; None where a failed run never learned it."""

    devid: str | None = None
    genuine_id: str | None = None
    eid: str | None = None
    eid_sign: str | None = None
    instanceid: str | None = None
    hwv: str | None = None
    fwv: str | None = None
    blv: str | None = None


@dataclass(frozen=True)
class ReaderIdentity:
    """A SpringCard reader (mode ``readers``): who it is and what configuration it now carries.

    ``device_id`` is the Companion Service's DeviceId; ``serial`` the reader's serial number;
    ``inventory`` the per-unit inventory number written to it; ``config_id`` the ConfigId GUID read back
    after the write; ``config_sha256`` the SHA-256 of the canonical configuration written
    (``springcore.configdata``).
    """

    device_id: str
    serial: str | None = None
    product: str | None = None
    firmware: str | None = None
    inventory: str | None = None
    config_id: str | None = None
    config_sha256: str | None = None


@dataclass(frozen=True)
class ProvisioningEvidence:
    """The unit's certificate and what the station saw when it checked the lock.

    ``confirmed`` says how the station knows: True when it read the certificate back from the unit's
    attestation, False when it only issued and sent it (the run ended before a read-back), so the unit
    may or may not hold it. A record never claims more than the station saw.
    """

    crt: str
    crt_sha256: str
    attestation_key_sha1: str
    refusal_status: int | None
    confirmed: bool = True

    @classmethod
    def from_der(
        cls, der: bytes, *, attestation_key_sha1: str, refusal_status: int | None, confirmed: bool = True
    ) -> ProvisioningEvidence:
        """Evidence for the DER certificate ``der`` (base64 and SHA-256 computed here)."""
        return cls(
            crt=base64.b64encode(der).decode("ascii"),
            crt_sha256=hashlib.sha256(der).hexdigest(),
            attestation_key_sha1=attestation_key_sha1,
            refusal_status=refusal_status,
            confirmed=confirmed,
        )


@dataclass(frozen=True)
class StepRecord:
    """One step as it ended: ``detail`` holds public values only (it is signed and kept forever)."""

    name: str
    outcome: str
    started: datetime
    finished: datetime
    attempts: int = 1
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """Why a unit did not pass: the step, a short machine-readable code and a sentence for people."""

    step: str
    code: str
    message: str


@dataclass(frozen=True)
class Links:
    """Record ids this record replaces (RMA) or checks (QA)."""

    supersedes: str | None = None
    verifies: str | None = None


@dataclass(frozen=True)
class RecordDraft:
    """Everything the pipeline knows about one run; the writer adds identity, station and chain."""

    mode: str
    operator: Operator
    fixture: FixtureRef
    unit: UnitIdentity | ReaderIdentity  # ReaderIdentity in mode ``readers`` only
    steps: tuple[StepRecord, ...]
    outcome: str
    started: datetime
    finished: datetime
    simulated: bool
    provisioning: ProvisioningEvidence | None = None
    personalization: Mapping[str, Any] | None = None
    failure: Failure | None = None
    links: Links = Links()


def rfc3339(moment: datetime) -> str:
    """``moment`` as RFC 3339 UTC text with milliseconds; naive datetimes are refused (ambiguous)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecordError(f"time {moment.isoformat()} has no time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def chain_hash(jws_text: str) -> str:
    """The ``prev`` value that the next record carries: SHA-256 hex of this record's JWS text."""
    return hashlib.sha256(jws_text.encode("utf-8")).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_payload(
    draft: RecordDraft, *, station: StationInfo, seq: int, prev: str, record_id: str
) -> dict[str, Any]:
    """The signed payload for ``draft``, validated (RecordError naming the field on any problem)."""
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "record_id": record_id,
        "station": _fields(station),
        "seq": seq,
        "prev": prev,
        "mode": draft.mode,
        "operator": _fields(draft.operator),
        "fixture": _fields(draft.fixture),
        "unit": _fields(draft.unit),
        "provisioning": None if draft.provisioning is None else _fields(draft.provisioning),
        "personalization": None
        if draft.personalization is None
        else plain(draft.personalization, "personalization"),
        "steps": [_step(step, index) for index, step in enumerate(draft.steps)],
        "outcome": draft.outcome,
        "failure": None if draft.failure is None else _fields(draft.failure),
        "links": _fields(draft.links),
        "started": rfc3339(draft.started),
        "finished": rfc3339(draft.finished),
        "simulated": draft.simulated,
    }
    validate_payload(payload)
    return payload


def _step(step: StepRecord, index: int) -> dict[str, Any]:
    return {
        "name": step.name,
        "outcome": step.outcome,
        "started": rfc3339(step.started),
        "finished": rfc3339(step.finished),
        "attempts": step.attempts,
        "detail": plain(step.detail, f"steps[{index}].detail"),
    }


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def plain(value: Any, path: str) -> Any:
    """``value`` as plain JSON types (mappings → dict, tuples → list); anything else names its path."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RecordError(f"{path} has a non-text key")
            result[key] = plain(item, f"{path}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise RecordError(f"{path} holds a {type(value).__name__}, which a record cannot carry")
