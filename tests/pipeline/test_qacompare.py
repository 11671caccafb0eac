"""QA's comparison rules on their own: which differences are mismatches, which only notes."""

from __future__ import annotations

from typing import Any

from station.pipeline.modes.qa.compare import Observed, compare
from station.records.payload import RecordPayload

PAYLOAD: dict[str, Any] = {
    "schema": "ppa-station/record/1",
    "record_id": "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f",
    "station": {"id": "st-1", "software": "ppa-station", "config_sha256": "ab" * 32, "key_id": "0" * 16},
    "seq": 1,
    "prev": "0" * 64,
    "mode": "production",
    "operator": {"id": "op7", "role": "operator"},
    "fixture": {"slot": "A1", "port": None},
    "steps": [],
    "outcome": "pass",
    "failure": None,
    "links": {"supersedes": None, "verifies": None},
    "started": "2025-03-04T09:59:20.000Z",
    "finished": "2025-03-04T10:00:05.123Z",
    "simulated": True,
    "unit": {
        "devid": "2023b758c209269a",
        "genuine_id": "0123eb561f5ea073ee",
        "eid": "eid-text",
        "eid_sign": "eid-sign-text",
        "instanceid": "b81356cb-4306-4d8d-b113-455de4afc045",
        "hwv": "PPA rev 2.2",
        "fwv": "Encedo nGINE FW v1.2.2",
        "blv": "Encedo Secure Bootloader v2.0.1",
    },
    "provisioning": {
        "crt": "",
        "crt_sha256": "ab" * 32,
        "attestation_key_sha1": "cd" * 20,
        "refusal_status": 406,
    },
    "personalization": {"profile": "default", "user": "Line Seven"},
}
RECORD = RecordPayload.parse(PAYLOAD)


def seen_as_recorded(**changes: Any) -> Observed:
    unit = PAYLOAD["unit"]
    values = {name: unit[name] for name in ("devid", "genuine_id", "eid", "eid_sign", "instanceid")}
    values.update(hwv=unit["hwv"], fwv=unit["fwv"], blv=unit["blv"], lbl="Line Seven", inited=True)
    values.update(crt_sha256="ab" * 32, attestation_key_sha1="cd" * 20)
    values.update(config_eid=unit["eid"], config_genuine_id=unit["genuine_id"])
    values.update(changes)
    return Observed(**values)


def test_a_unit_as_recorded_has_no_findings_and_no_notes() -> None:
    assert compare(seen_as_recorded(), RECORD) == ([], [])


def test_newer_firmware_and_bootloader_are_notes() -> None:
    findings, notes = compare(
        seen_as_recorded(fwv="Encedo nGINE FW v1.3", blv="Encedo Secure Bootloader v2.1.0"), RECORD
    )
    assert findings == []
    assert [note.split(":")[0] for note in notes] == ["fwv", "blv"]


def test_older_firmware_another_build_and_unreadable_versions_are_mismatches() -> None:
    cases = {
        "Encedo nGINE FW v1.2.1": "older than recorded",
        "Encedo nGINE FW v1.2.2-DIAG": "another build of the same version",
        "Encedo nGINE FW": "no comparable version number",
    }
    for fwv, why in cases.items():
        (finding,), _ = compare(seen_as_recorded(fwv=fwv), RECORD)
        assert (finding.field, finding.found, finding.why) == ("fwv", fwv, why)


def test_every_identity_field_is_compared_and_named() -> None:
    changed = {
        "devid": "0000000000000000",
        "hwv": "PPA rev 3.0",
        "lbl": "Someone Else",
        "crt_sha256": "00" * 32,
        "attestation_key_sha1": "00" * 20,
        "eid_sign": "other",
        "instanceid": "other",
    }
    findings, _ = compare(seen_as_recorded(**changed), RECORD)
    assert {finding.field for finding in findings} == set(changed)
    assert "lbl: record says 'Line Seven', unit has 'Someone Else'" in [str(f) for f in findings]


def test_a_blank_unit_is_a_mismatch_and_what_it_cannot_say_is_noted() -> None:
    seen = Observed(inited=False, hwv="PPA rev 2.2", fwv="Encedo nGINE FW v1.2.2")
    seen.blv, seen.genuine_id = PAYLOAD["unit"]["blv"], PAYLOAD["unit"]["genuine_id"]
    seen.crt_sha256, seen.attestation_key_sha1 = "ab" * 32, "cd" * 20
    findings, notes = compare(seen, RECORD)
    assert [finding.field for finding in findings] == ["inited"]
    assert "devid: not compared (the unit did not give it)" in notes


def test_answers_of_the_unit_that_disagree_are_mismatches() -> None:
    findings, _ = compare(seen_as_recorded(config_eid="another eid"), RECORD)
    assert [finding.field for finding in findings] == ["eid (configuration)"]
