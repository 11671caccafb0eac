"""What a unit label says, taken from a signed record payload: pure functions, no I/O.

>>> fields = label_fields(SAMPLE_PAYLOAD)                # the values of a template's placeholders
>>> fields["devid"], fields["date"], fields["qr_data"]
('2023b758c209269a', '2025-03-04', 'PPA1:2023B758C209269A:0F8FAD5B-D9CB-469F-A165-70867728950E')
>>> labelled({"mode": "qa", "outcome": "pass"})          # None for a record that gets a label
'it is a qa record; only production and RMA records get a unit label'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from station.core.errors import LabelError

QR_TAG = "PPA1"
LABELLED_MODES = ("production", "rma")
_QR_ID = re.compile(r"^[0-9A-Za-z-]+$")
_QR_TEXT = re.compile(r"^PPA1:([0-9A-Za-z-]+):([0-9A-Za-z-]+)$", re.IGNORECASE)


def label_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """The label's text fields from a record ``payload``; fields the record lacks are left out."""
    unit = payload.get("unit") or {}
    personalization = payload.get("personalization") or {}
    fields = {
        "record_id": payload.get("record_id"),
        "station": (payload.get("station") or {}).get("id"),
        "seq": payload.get("seq"),
        "mode": payload.get("mode"),
        "profile": personalization.get("profile"),
        **{name: unit.get(name) for name in ("devid", "genuine_id", "hwv", "fwv")},
        **_times(payload.get("finished")),
        "simulated": "SIMULATED" if payload.get("simulated") else "",
    }
    present = {name: str(value) for name, value in fields.items() if value is not None}
    if "devid" in present and "record_id" in present:
        present["qr_data"] = qr_payload(present["devid"], present["record_id"])
    return present


def labelled(payload: Mapping[str, Any]) -> str | None:
    """None when the record gets a unit label; otherwise why not, in words."""
    mode, outcome = payload.get("mode"), payload.get("outcome")
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


def _times(finished: Any) -> dict[str, str]:
    if not isinstance(finished, str):
        return {}
    try:
        moment = datetime.fromisoformat(finished).astimezone(UTC)
    except ValueError:
        return {}
    return {"finished": moment.strftime("%Y-%m-%d %H:%M:%S UTC"), "date": moment.strftime("%Y-%m-%d")}


# A record with every field a label can show: templates are test-rendered with it when the config loads.
SAMPLE_PAYLOAD: Mapping[str, Any] = {
    "record_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "station": {"id": "sample-st01"},
    "seq": 1,
    "mode": "production",
    "outcome": "pass",
    "unit": {
        "devid": "2023b758c209269a",
        "genuine_id": "0123eb561f5ea073ee",
        "hwv": "PPA rev1",
        "fwv": "Encedo nGINE FW v1.2.2",
    },
    "personalization": {"profile": "default"},
    "finished": "2025-03-04T10:00:05.000Z",
    "simulated": True,
}
