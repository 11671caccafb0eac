"""Record payloads: built from drafts, validated, and never carrying a secret outside sealed_secrets."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from station.core.errors import RecordError
from station.records.model import Failure, StationInfo, UnitIdentity, build_payload, rfc3339
from station.records.validate import validate_payload
from tests.records.factories import CONFIG_SHA256, Ca, draft

STATION = StationInfo(
    id="st1", software="ppa-station test", config_sha256=CONFIG_SHA256, key_id="0123456789abcdef"
)
SECRET = "correct horse battery staple"


def _build(record: Any) -> dict[str, Any]:
    return build_payload(record, station=STATION, seq=1, prev="0" * 64, record_id=str(uuid.uuid4()))


def test_payload_has_every_field_of_design_section_5(ca: Ca) -> None:
    payload = _build(draft(ca))
    assert list(payload) == [
        "schema", "record_id", "station", "seq", "prev", "mode", "operator", "fixture", "unit",
        "provisioning", "personalization", "steps", "outcome", "failure", "links", "started", "finished",
        "simulated",
    ]  # fmt: skip
    assert payload["schema"] == "ppa-station/record/1"
    assert payload["station"] == dataclasses.asdict(STATION)
    assert set(payload["unit"]) == {
        "devid",
        "genuine_id",
        "eid",
        "eid_sign",
        "instanceid",
        "hwv",
        "fwv",
        "blv",
    }
    assert set(payload["provisioning"]) == {
        "crt",
        "crt_sha256",
        "attestation_key_sha1",
        "refusal_status",
        "confirmed",
    }
    assert payload["provisioning"]["confirmed"] is True
    assert payload["steps"][0] == {
        "name": "detect",
        "outcome": "pass",
        "started": "2025-03-04T10:00:00.000Z",
        "finished": "2025-03-04T10:00:00.750Z",
        "attempts": 1,
        "detail": {"note": "step 0"},
    }
    assert payload["links"] == {"supersedes": None, "verifies": None}
    assert payload["failure"] is None and payload["simulated"] is True


def test_rfc3339_is_utc_with_milliseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert rfc3339(datetime(2025, 3, 4, 12, 0, 0, 123456, tzinfo=plus_two)) == "2025-03-04T10:00:00.123Z"
    with pytest.raises(RecordError, match="no time zone"):
        rfc3339(datetime(2025, 3, 4, 12, 0, 0))  # a naive time


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"outcome": "maybe"}, "outcome is 'maybe', expected one of pass, fail, error, aborted"),
        ({"mode": "testing"}, "mode is 'testing', expected one of production, qa, rma, readers"),
        ({"failure": None, "outcome": "fail"}, "failure must say why"),
        ({"personalization": {"hostname": "x"}}, "personalization.profile is missing"),
    ],
)
def test_validation_refuses_bad_drafts(ca: Ca, change: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        _build(dataclasses.replace(draft(ca), **change))


def test_passing_production_record_needs_identity_and_certificate(ca: Ca) -> None:
    good = draft(ca)
    assert isinstance(good.unit, UnitIdentity)  # a production draft
    with pytest.raises(RecordError, match=r"unit\.devid is required"):
        _build(dataclasses.replace(good, unit=dataclasses.replace(good.unit, devid=None)))
    with pytest.raises(RecordError, match="provisioning is required"):
        _build(dataclasses.replace(good, provisioning=None))
    qa = dataclasses.replace(good, mode="qa", provisioning=None)
    assert _build(qa)["mode"] == "qa"


def test_certificate_digest_must_match(ca: Ca) -> None:
    good = draft(ca)
    assert good.provisioning is not None
    wrong = dataclasses.replace(good.provisioning, crt_sha256="00" * 32)
    with pytest.raises(RecordError, match="crt_sha256 is not the SHA-256"):
        _build(dataclasses.replace(good, provisioning=wrong))


def test_a_certificate_never_read_back_is_evidence_of_a_failed_run_only(ca: Ca) -> None:
    good = draft(ca)
    assert good.provisioning is not None
    sent = dataclasses.replace(good.provisioning, refusal_status=None, confirmed=False)
    with pytest.raises(RecordError, match=r"provisioning\.confirmed is false in a passing record"):
        _build(dataclasses.replace(good, provisioning=sent))
    failure = Failure("provision", "timeout", "no answer")
    aborted = _build(dataclasses.replace(good, outcome="aborted", failure=failure, provisioning=sent))
    assert aborted["provisioning"]["confirmed"] is False
    with pytest.raises(RecordError, match=r"provisioning\.confirmed is not true or false"):
        validate_payload({**aborted, "provisioning": {**aborted["provisioning"], "confirmed": "no"}})
    older = {key: value for key, value in aborted["provisioning"].items() if key != "confirmed"}
    validate_payload({**aborted, "provisioning": older})  # records from before the field stay valid


def test_step_outcome_may_be_skipped_but_not_invented(ca: Ca) -> None:
    good = draft(ca)
    skipped = (dataclasses.replace(good.steps[0], outcome="skipped"), *good.steps[1:])
    assert _build(dataclasses.replace(good, steps=skipped))["steps"][0]["outcome"] == "skipped"
    invented = (dataclasses.replace(good.steps[0], outcome="great"), *good.steps[1:])
    with pytest.raises(RecordError, match=r"steps\[0\].outcome"):
        _build(dataclasses.replace(good, steps=invented))


@pytest.mark.parametrize(
    ("personalization", "path"),
    [
        ({"profile": "p", "user_passphrase": SECRET}, "personalization.user_passphrase"),
        ({"profile": "p", "Master_Mnemonic": SECRET}, "personalization.Master_Mnemonic"),
        ({"profile": "p", "keys": [{"private": SECRET}]}, r"personalization.keys\[0\].private"),
        ({"profile": "p", "escrow": {"privateKey": SECRET}}, "personalization.escrow.privateKey"),
        ({"profile": "p", "wifi_password": SECRET}, "personalization.wifi_password"),
    ],
)
def test_secret_named_fields_are_refused_without_quoting_them(
    ca: Ca, personalization: dict[str, Any], path: str
) -> None:
    with pytest.raises(RecordError, match=f"^{path}: a field named like a secret") as caught:
        _build(draft(ca, personalization=personalization))
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_secret_named_step_detail_is_refused(ca: Ca) -> None:
    good = draft(ca)
    leaky = (dataclasses.replace(good.steps[0], detail={"passphrase": SECRET}), *good.steps[1:])
    with pytest.raises(RecordError, match=r"steps\[0\].detail.passphrase") as caught:
        _build(dataclasses.replace(good, steps=leaky))
    assert SECRET not in str(caught.value)


def test_sealed_secrets_may_name_what_they_seal(ca: Ca) -> None:
    sealed = {"escrow_key_id": "k1", "passphrase": "hpke-ciphertext-b64", "mnemonic": "hpke-ciphertext-b64"}
    payload = _build(draft(ca, personalization={"profile": "p", "sealed_secrets": sealed}))
    assert payload["personalization"]["sealed_secrets"] == sealed


def test_values_a_record_cannot_carry_name_their_path(ca: Ca) -> None:
    with pytest.raises(RecordError, match=r"personalization.blob holds a bytes"):
        _build(draft(ca, personalization={"profile": "p", "blob": b"\x00"}))


def test_validate_payload_names_missing_and_mistyped_fields(ca: Ca) -> None:
    payload = _build(draft(ca))
    for key, value, reason in [
        ("seq", 0, "seq is not a positive integer"),
        ("seq", True, "seq is not a positive integer"),
        ("prev", "xyz", "prev is not in the expected form"),
        ("record_id", str(uuid.uuid1()), "record_id is not a lowercase UUID4"),
        ("simulated", "yes", "simulated is not true or false"),
        ("schema", "ppa-station/record/2", "schema is not"),
        ("started", "2025-03-04 10:00:00", "started is not in the expected form"),
    ]:
        with pytest.raises(RecordError, match=reason):
            validate_payload({**payload, key: value})
    del payload["steps"]
    with pytest.raises(RecordError, match="steps is missing"):
        validate_payload(payload)


def test_unknown_fields_may_be_added_later(ca: Ca) -> None:
    payload = _build(draft(ca))
    validate_payload({**payload, "label": {"printed": True}})
