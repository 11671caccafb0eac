"""From a finished run to its record draft: what every mode's record shares, built in one place.

>>> from station.core.events import Outcome
>>> from station.pipeline.engine import StepRecord, utc_now
>>> step = StepRecord("compare", Outcome.PASS, utc_now(), utc_now(), attempts=1, detail="14 fields agree")
>>> step_records(RunResult(Outcome.PASS, [step], None), {"compare": {"notes": []}})[0].detail
{'message': '14 fields agree', 'notes': []}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from station.core.operator import Operator
from station.pipeline.engine import RunResult
from station.records import model

StepDetails = Mapping[str, Mapping[str, Any]]  # step name → public values the record adds to its detail


@dataclass(frozen=True)
class RunFrame:
    """Where and for whom a run happened: the slot, the logged-in operator, the start, simulated or not."""

    fixture: model.FixtureRef
    operator: Operator
    started: datetime
    simulated: bool


def record_draft(
    mode: str,
    result: RunResult,
    frame: RunFrame,
    unit: model.UnitIdentity | model.ReaderIdentity,
    *,
    provisioning: model.ProvisioningEvidence | None = None,
    personalization: Mapping[str, Any] | None = None,
    links: model.Links | None = None,
    details: StepDetails | None = None,
) -> model.RecordDraft:
    """The record of one run of ``mode``: the flow's unit facts, the timeline, the verdict."""
    return model.RecordDraft(
        mode=mode,
        operator=frame.operator,
        fixture=frame.fixture,
        unit=unit,
        provisioning=provisioning,
        personalization=personalization,
        steps=step_records(result, details or {}),
        outcome=str(result.outcome),
        failure=failure_record(result),
        links=links or model.Links(),
        started=frame.started,
        finished=datetime.now(UTC),
        simulated=frame.simulated,
    )


def step_records(result: RunResult, details: StepDetails) -> tuple[model.StepRecord, ...]:
    """The run's timeline as the record keeps it: each step's message plus the flow's extra details."""
    return tuple(
        model.StepRecord(
            s.name,
            str(s.outcome),
            s.started,
            s.finished,
            s.attempts,
            {**({"message": s.detail} if s.detail else {}), **details.get(s.name, {})},
        )
        for s in result.steps
    )


def failure_record(result: RunResult) -> model.Failure | None:
    failure = result.failure
    return None if failure is None else model.Failure(failure.step, failure.code, failure.message)
