"""Restarts that meet a unit the station cannot identify, or one an unfinished run provisioned."""

from __future__ import annotations

import pytest

from station.core.events import Outcome
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import ATTESTATION, AUTH_INIT, LineFactory, failure_of


@pytest.mark.usefixtures("quick_retries")  # every identify and attest attempt, without their 11 s of pauses
def test_an_interrupted_run_whose_unit_cannot_be_identified_is_closed_not_resumed(
    line_factory: LineFactory,
) -> None:
    line = line_factory(network=[{}], client_timeout=2.0)
    store = line.station.store
    run_id = store.begin_run("N1", "production")
    store.journal(
        run_id, "provision", "intent", {"crt": "AAAA", "crt_sha256": "0" * 64, "genuine_id": "00aa"}
    )
    unit = line.extra_units[0]
    unit.faults.add(FaultRule("drop", path=ATTESTATION))  # the unit answers status, never its identity

    verdicts = line.station.run(units=1)
    records = line.records()
    closed = next(r.payload for r in records if r.payload["outcome"] == "aborted")
    assert closed["failure"]["code"] == "unit-unidentified"
    assert closed["unit"]["genuine_id"] == "00aa"  # the run's own unit keeps its verdict
    assert "did not answer to be identified" in closed["failure"]["message"]
    assert verdicts[0].run_id != run_id  # the unit in the slot got a run of its own
    assert line.verify().ok


def test_a_unit_an_unfinished_run_provisioned_is_sent_to_rma(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    line.extra_units[0].faults.add(FaultRule("500", path=AUTH_INIT, method="POST"))
    (first,) = line.run()
    assert first.outcome is not Outcome.PASS and first.failure is not None
    assert first.failure.step == "personalize"
    line.extra_units[0].faults.clear()

    again = line.reopen("production")
    (second,) = again.run()
    step, code, message = failure_of(second)
    assert (step, code) == ("attest", "provisioned-unfinished")
    assert "this factory's CA" in message and "RMA" in message
