"""What a unit label says, taken from a signed record payload: pure functions, no I/O.

>>> fields = label_fields(SAMPLE_RECORD)                # the values of a template's placeholders
>>> fields["devid"], fields["date"], fields["qr_data"]
('2023b758c209269a', '2025-03-04', 'PPA1:2023B758C209269A:0F8FAD5B-D9CB-469F-A165-70867728950E')
>>> from dataclasses import replace; labelled(replace(SAMPLE_RECORD, mode="qa"))  # None: it gets one
'it is a qa record; only production and RMA records get a unit label'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from station.core.errors import LabelError
from station.core.operator import Operator
from station.records.model import FixtureRef, Links, StationInfo, UnitIdentity
from station.records.payload import RecordPayload

QR_TAG = "PPA1"
LABELLED_MODES = ("production", "rma")
_QR_ID = re.compile(r"^[0-9A-Za-z-]+$")
_QR_TEXT = re.compile(r"^PPA1:([0-9A-Za-z-]+):([0-9A-Za-z-]+)$", re.IGNORECASE)


def label_fields(record: RecordPayload) -> dict[str, str]:
    """The label's text fields from a ``record``; fields the record lacks are left out."""
    unit = record.ppa_unit or UnitIdentity()  # a reader's record has none of a PPA's unit fields
    personalization = record.personalization or {}
    fields = {
        "record_id": record.record_id,
        "station": record.station.id,
        "seq": record.seq,
        "mode": record.mode,
        "profile": personalization.get("profile"),
        **{name: getattr(unit, name) for name in ("devid", "genuine_id", "hwv", "fwv")},
        **_times(record.finished),
        "simulated": "SIMULATED" if record.simulated else "",
    }
    present = {name: str(value) for name, value in fields.items() if value is not None}
    if "devid" in present and "record_id" in present:
        present["qr_data"] = qr_payload(present["devid"], present["record_id"])
    return present


def labelled(record: RecordPayload) -> str | None:
    """None when the record gets a unit label; otherwise why not, in words."""
    mode, outcome = record.mode, record.outcome
    if mode not in LABELLED_MODES:
        return f"it is a {mode} record; only production and RMA records get a unit label"
    if outcome != "pass":
        return f"the unit did not pass ({mode} outcome: {outcome}); only passing units get a label"
    return None


def qr_payload(devid: str, record_id: str) -> str:
    """``PPA1:<DEVID>:<RECORD-ID>`` (see the module text); LabelError for ids outside [0-9A-Za-z-]."""
    for name, value in (("devid", devid), ("record_id", record_id)):
        if not _QR_ID.match(value):
            raise LabelError(f"{name} {value!r} cannot go into the label's QR code (0-9, A-Z, '-' only)")
    return f"{QR_TAG}:{devid.upper()}:{record_id.upper()}"


def parse_qr(text: str) -> tuple[str, str] | None:
    """``(devid, record_id)`` in lower case from a scanned label QR code, or None if it is not one."""
    match = _QR_TEXT.match(text.strip())
    return None if match is None else (match[1].lower(), match[2].lower())


def _times(finished: str) -> dict[str, str]:
    try:
        moment = datetime.fromisoformat(finished).astimezone(UTC)
    except ValueError:
        return {}
    return {"finished": moment.strftime("%Y-%m-%d %H:%M:%S UTC"), "date": moment.strftime("%Y-%m-%d")}


# A record with every field a label can show: templates are test-rendered with it when the config loads.
SAMPLE_RECORD = RecordPayload(
    schema="ppa-station/record/1",
    record_id="0f8fad5b-d9cb-469f-a165-70867728950e",
    station=StationInfo(id="sample-st01", software="ppa-station", config_sha256="0" * 64, key_id="0" * 16),
    seq=1,
    prev="0" * 64,
    mode="production",
    operator=Operator(id="sample", role="operator"),
    fixture=FixtureRef(slot="A1"),
    unit=UnitIdentity(
        devid="2023b758c209269a",
        genuine_id="0123eb561f5ea073ee",
        hwv="PPA rev1",
        fwv="Encedo nGINE FW v1.2.2",
    ),
    provisioning=None,
    personalization={"profile": "default"},
    steps=(),
    outcome="pass",
    failure=None,
    links=Links(),
    started="2025-03-04T10:00:00.000Z",
    finished="2025-03-04T10:00:05.000Z",
    simulated=True,
)
