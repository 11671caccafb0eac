"""From a finished run to a record draft, and from an interrupted run's journal back to what it wrote.

Example::

    draft = production_draft(flow.facts, result, fixture=FixtureRef("A1", "1-1.2"), operator=op,
                             started=t0, simulated=True)
    writer.append(draft, run_id=run_id)

    prior = prior_from_journal(store.run_journal(run.run_id))   # after a crash
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from station.pipeline.engine import RunResult
from station.pipeline.production import Prior, UnitFacts
from station.ppa import protocol
from station.records import model
from station.records.entries import JournalEntry


def production_draft(
    facts: UnitFacts,
    result: RunResult,
    *,
    fixture: model.FixtureRef,
    operator: model.Operator,
    started: datetime,
    simulated: bool,
    mode: str = "production",
) -> model.RecordDraft:
    """The record draft of one run: public facts, the step timeline, the verdict."""
    return model.RecordDraft(
        mode=mode,
        operator=operator,
        fixture=fixture,
        unit=model.UnitIdentity(
            devid=facts.devid,
            genuine_id=facts.genuine_id,
            eid=facts.eid,
            eid_sign=facts.eid_sign,
            instanceid=facts.instanceid,
            hwv=facts.hwv,
            fwv=facts.fwv,
            blv=facts.blv,
        ),
        provisioning=_evidence(facts),
        personalization=facts.personalization,
        steps=step_records(result),
        outcome=str(result.outcome),
        failure=failure_record(result),
        started=started,
        finished=datetime.now(UTC),
        simulated=simulated,
    )


def step_records(result: RunResult) -> tuple[model.StepRecord, ...]:
    """The run's timeline as the record keeps it (every mode's flow uses this)."""
    return tuple(
        model.StepRecord(
            s.name,
            str(s.outcome),
            s.started,
            s.finished,
            s.attempts,
            {"message": s.detail} if s.detail else {},
        )
        for s in result.steps
    )


def failure_record(result: RunResult) -> model.Failure | None:
    failure = result.failure
    return None if failure is None else model.Failure(failure.step, failure.code, failure.message)


def _evidence(facts: UnitFacts) -> model.ProvisioningEvidence | None:
    if facts.crt_der is None or facts.attestation_key_sha1 is None:
        return None
    return model.ProvisioningEvidence.from_der(
        facts.crt_der, attestation_key_sha1=facts.attestation_key_sha1, refusal_status=facts.refusal_status
    )


def prior_from_journal(entries: Iterable[JournalEntry]) -> Prior:
    """What an interrupted run had announced it would write (``intent`` entries), in journal order."""
    prior = Prior()
    for entry in entries:
        if entry.phase != "intent":
            continue
        detail = entry.detail
        if entry.step == "provision":
            prior.crt_sha256 = str(detail.get("crt_sha256"))
            prior.crt_der = protocol.b64decode(str(detail.get("crt", "")))
            prior.genuine_id = str(detail.get("genuine_id")) if detail.get("genuine_id") else prior.genuine_id
        elif entry.step == "personalize":
            prior.personalised_eid = str(detail.get("eid"))
            personalization = detail.get("personalization")
            prior.personalization = dict(personalization) if isinstance(personalization, dict) else None
    return prior
