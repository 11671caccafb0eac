"""A unit the line already passed, still in its slot (a restart, a unit put back): PASS again, no record.

Anything else keeps today's verdict: a personalised unit that changed since its pass, one this line never
personalised, or one whose records do not hold up; and every such refusal names the unit its ``eid`` led
to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from station.core.events import ALREADY_PASSED, AlreadyPassed, LogLine, Outcome, SlotChanged, SlotState
from station.factory.backend import Backend, LocalBackend
from station.factory.keys.keystore import FileKeyStore
from station.pipeline.passed import NOT_FRESH
from station.records import model
from tests import simtools
from tests.pipeline.conftest import LineFactory, failure_of
from tests.pipeline.passedshown import shown_as_passed


def test_a_unit_that_passed_here_is_shown_as_passed_and_the_next_unit_runs(line_factory: LineFactory) -> None:
    line = line_factory()
    (first,) = line.run()
    assert first.outcome is Outcome.PASS, first.failure
    events: list[object] = []
    line.station.bus.subscribe(events.append)

    (second,) = line.run()  # the passed unit is still in the slot: shown, swapped, then a fresh one runs

    shown = [event for event in events if isinstance(event, AlreadyPassed)]
    assert [(e.unit_id, e.record_id, e.message) for e in shown] == [
        (first.record.devid, first.record.record_id, ALREADY_PASSED)
    ]
    done = [e for e in events if isinstance(e, SlotChanged) and e.state is SlotState.DONE]
    assert done and done[0].at <= shown[0].at  # the lamp turns green for it
    assert second.outcome is Outcome.PASS, second.failure
    assert second.record.devid != first.record.devid  # the next unit, not the passed one again
    records = line.records()
    assert [r.record_id for r in records] == [first.record.record_id, second.record.record_id]
    assert line.verify().ok


def test_a_network_unit_left_in_its_slot_gets_no_run_and_no_record(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    (made,) = line.run()
    assert made.outcome is Outcome.PASS, made.failure
    again = line.reopen("production")  # the station restarted over the unit

    shown, events = shown_as_passed(again)

    assert (shown.unit_id, shown.record_id) == (made.record.devid, made.record.record_id)
    assert [r.record_id for r in again.records()] == [made.record.record_id]
    assert again.station.store.open_runs() == []
    assert again.station.tally is not None and again.station.tally.total == 0  # not a new verdict
    logged = [e.message for e in events if isinstance(e, LogLine) and "already passed" in e.message]
    assert logged and made.record.record_id in logged[0]


def test_a_unit_changed_since_its_pass_is_refused_and_its_record_names_it(line_factory: LineFactory) -> None:
    line = line_factory()
    (first,) = line.run()
    line.unit().state.firmware.fwv = "Encedo nGINE FW v9.9.9"  # not the firmware its record names

    (second,) = line.run()

    step, code, message = failure_of(second)
    assert (step, code) == ("identify", "already-personalised")
    unit = second.record.payload["unit"]
    made = first.record.payload["unit"]
    assert (unit["devid"], unit["genuine_id"], unit["eid"]) == (
        made["devid"],
        made["genuine_id"],
        made["eid"],
    )
    assert first.record.record_id in message
    assert second.record.devid == first.record.devid  # indexed: the unit's history shows the refusal
    assert line.verify().ok


def test_a_unit_personalised_elsewhere_is_refused_naming_its_eid(line_factory: LineFactory) -> None:
    line = line_factory(network=[{}])
    checkin_key = FileKeyStore(line.data_dir / "keys").x25519("checkin")
    simtools.personalise(line.url(), checkin_key)  # by its owner, not by this line
    eid = simtools.get(line.url(), "/api/auth/token").json()["eid"]

    (verdict,) = line.run()

    assert failure_of(verdict)[:2] == ("identify", "already-personalised")
    unit = verdict.record.payload["unit"]
    assert unit["eid"] == eid  # what the unit shows without a login
    assert unit["devid"] is None  # and nothing more: no record of this line knows that eid


class OtherCa:
    """The station's backend, but another factory CA: the unit's recorded certificate is not "ours"."""

    def __init__(self, inner: Backend, other: LocalBackend) -> None:
        self.inner, self.other = inner, other

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def ca_certificate(self) -> x509.Certificate:
        return self.other.ca_certificate()


def test_a_pass_whose_certificate_is_not_from_the_factory_ca_proves_nothing(
    line_factory: LineFactory, tmp_path: Path
) -> None:
    line = line_factory()
    (first,) = line.run()
    other = LocalBackend(FileKeyStore(tmp_path / "other-factory"), name="other-factory")
    line.station.backend = OtherCa(line.station.backend, other)  # type: ignore[assignment]

    (second,) = line.run()

    assert failure_of(second)[:2] == ("identify", "already-personalised")
    assert second.record.devid == first.record.devid


def test_a_later_failed_verdict_speaks_against_the_pass(line_factory: LineFactory) -> None:
    line = line_factory()
    (first,) = line.run()
    made = first.record.payload["unit"]
    now = datetime.now(UTC)
    line.station.writer.append(  # QA found the unit faulty after its pass
        model.RecordDraft(
            mode="qa",
            operator=line.station.operator,
            fixture=model.FixtureRef("A1", "sim:0"),
            unit=model.UnitIdentity(devid=made["devid"], genuine_id=made["genuine_id"], eid=made["eid"]),
            steps=(),
            outcome="fail",
            started=now,
            finished=now,
            simulated=True,
            failure=model.Failure("compare", "mismatch", "1 mismatch(es) with production record"),
        )
    )

    (second,) = line.run()

    assert failure_of(second)[:2] == ("identify", "already-personalised")


def test_refusals_as_not_fresh_do_not_undo_a_pass(line_factory: LineFactory) -> None:
    """Records a station wrote before it knew better (FAIL already-personalised after the pass)."""
    line = line_factory()
    (first,) = line.run()
    line.unit().state.firmware.fwv = "Encedo nGINE FW v9.9.9"
    (refused,) = line.run()
    assert failure_of(refused)[1] in NOT_FRESH
    line.unit().state.firmware.fwv = first.record.payload["unit"]["fwv"]  # as its record says again
    events: list[object] = []
    line.station.bus.subscribe(events.append)

    line.run()

    assert [e.record_id for e in events if isinstance(e, AlreadyPassed)] == [first.record.record_id]
