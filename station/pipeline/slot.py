"""One worker thread per fixture slot: wait for a unit, run the flow, write its record, wait for removal.

>>> quota = UnitQuota(2)                     # station.run(units=2): shared by every slot's worker
>>> [quota.claim() for _ in range(3)], quota.exhausted()
([True, True, False], True)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from station.core.errors import DeviceError, FixtureError, RecordError, StationError
from station.core.events import (
    LABEL_NOT_PRINTED,
    AlreadyPassed,
    Event,
    EventBus,
    Fault,
    FaultKind,
    LogLine,
    Outcome,
    RunFinished,
    RunStarted,
    SlotChanged,
    SlotState,
)
from station.core.operator import Operator
from station.devices.ppa.client import PpaClient
from station.devices.transport import call_deadline
from station.fixtures.base import BootSensor, Fixture, LinkEpoch, LinkPresence, PresenceSensor
from station.pipeline.drafts import RunFrame
from station.pipeline.engine import Cancelled, Engine, Group, RunContext, RunResult, Step
from station.pipeline.fixturehooks import (
    POWER_CYCLE_WAIT,
    TroubleNotice,
    lamp_colour,
    left_the_slot,
    power_cycle_helps,
)
from station.pipeline.flow import FlowFactory, SlotUnit
from station.pipeline.modes.production import Prior, genuine_id_of
from station.pipeline.passed import PassedUnit, personalised
from station.pipeline.recording import journal_evidence, journal_simulated, prior_from_journal
from station.pipeline.tally import Verdict, VerdictTally
from station.pipeline.unitguard import GuardedClient
from station.records import model
from station.records.entries import Run, StoredRecord
from station.records.store.sqlite import SqliteStore
from station.records.writer import RecordWriter

PRESENCE_POLL = 0.2
# While waiting for removal, a fixture that cannot see the unit's USB device or interface asks the unit
# itself, at most this often: firmware 1.2.2 hangs under sustained request load (docs/simulator.md).
REMOVAL_PROBE = 1.0
Answer = TypeVar("Answer")
IDENTIFY_ATTEMPTS = 4  # tries to re-identify a resumed run's unit before closing the run as aborted
IDENTIFY_BACKOFF = 0.5  # seconds, growing with each try (0.5 + 1 + 1.5 s at most)
RESUME_CHECK_WITHIN = 30.0  # seconds one try may take, whatever the unit does (as the identify step)


class UnitQuota:
    """How many more runs to start (None: unlimited); shared by all slots, thread-safe."""

    def __init__(self, limit: int | None, closed: threading.Event | None = None) -> None:
        self._left = limit
        self._lock = threading.Lock()
        self._closed = closed or threading.Event()  # set: start no new run (``Station.finish``)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def exhausted(self) -> bool:
        with self._lock:
            return self._closed.is_set() or (self._left is not None and self._left <= 0)

    def claim(self) -> bool:
        with self._lock:
            if self._closed.is_set():
                return False
            if self._left is None:
                return True
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        """Return a claim that started no run (the slot held a unit that had passed already)."""
        with self._lock:
            if self._left is not None:
                self._left += 1


@dataclass
class SlotServices:
    """The station-wide pieces a slot worker uses."""

    store: SqliteStore
    writer: RecordWriter
    flow_for: FlowFactory
    operator: Operator
    bus: EventBus
    quota: UnitQuota
    cancel: threading.Event
    verdicts: VerdictTally
    client_timeout: float = 10.0
    mode: str = "production"  # the mode every run of this station is journalled and recorded under
    # After a PASS record is durable (labels): returns a line for the slot log, never raises for the unit.
    after_pass: Callable[[StoredRecord], str | None] | None = None
    # Before a run begins (production): the unit's passing record if it already passed and is unchanged
    # since (``passed.PassedCheck``); such a unit is shown as PASS again, with no new run or record.
    already_passed: Callable[[PpaClient], PassedUnit | None] | None = None


class SlotWorker:
    """The loop of one slot; ``run`` returns when the quota is used up or the station is cancelled."""

    def __init__(self, fixture: Fixture, services: SlotServices, open_run: Run | None = None) -> None:
        self.fixture = fixture
        self.services = services
        self.open_run = open_run
        self._power_cycled: set[str] = set()  # runs whose unit was power-cycled once already
        self._new_unit_in_slot = False  # the last run's slot already holds another unit
        self._trouble = TroubleNotice(self._slot_health)  # why the slot's unit cannot be reached

    def run(self) -> None:
        cancel = self.services.cancel
        while not cancel.is_set():
            if not self.services.quota.claim():
                return
            if not self._wait(present=True):
                return
            if not self._guarded_unit():
                self.services.quota.give_back()  # shown as passed before: no run, no verdict to count
            if self.services.quota.exhausted():
                return  # the station stops here; the operator takes the last unit out afterwards
            self.fixture.release()
            if not self.fixture.simulated and not self._holds_new_unit() and not self._wait(present=False):
                return

    def _wait(self, *, present: bool) -> bool:
        """Poll presence until it is ``present``; False if the station was cancelled or is finishing."""
        state = SlotState.PRESENT if present else SlotState.EMPTY
        sense, pause = self._sensing(present)
        while not self.services.cancel.is_set() and not self.services.quota.closed:
            found = sense() == present
            notice = self._trouble.line(self.fixture.presence) if present else None
            if notice is not None:
                self._log(None, notice, "warning")
            if found:
                self._publish(SlotChanged(self.fixture.slot, time.time(), state))
                return True
            self.services.cancel.wait(pause)
        return False

    def _sensing(self, present: bool) -> tuple[Callable[[], bool], float]:
        """How to look for the unit, and how often. Waiting for its removal: the USB device and interface
        where the fixture sees them (the unit is asked nothing), else a status probe once a second, which
        also counts a smaller ``uptime`` as removal: a swap between two probes is seen all the same."""
        presence = self.fixture.presence
        if present:
            return presence.present, PRESENCE_POLL
        if isinstance(presence, LinkPresence):
            return presence.attached, PRESENCE_POLL
        if isinstance(presence, BootSensor):
            return _same_boot(presence, presence), REMOVAL_PROBE
        return presence.present, REMOVAL_PROBE

    def _client(self) -> PpaClient:
        link = self.fixture.link
        if isinstance(link, LinkEpoch):  # re-read the unit's identity after a reconnect, before writing
            return GuardedClient(link.transport(), epoch=link.epoch, timeout=self.services.client_timeout)
        return PpaClient(link.transport(), timeout=self.services.client_timeout)

    def _holds_new_unit(self) -> bool:
        """After a verdict: the slot already holds another unit (swapped mid-run), so start its run now."""
        new, self._new_unit_in_slot = self._new_unit_in_slot, False
        return new

    def _guarded_unit(self) -> bool:
        """One unit; a fault of the station itself (records database gone, a bug) must not kill the slot.

        Such a unit shows FAILED with what happened and what to do; its run stays open in the journal and
        is resolved when the station starts again. False when the unit got no run: it had passed already.
        """
        try:
            return self._one_unit()
        except Cancelled:  # stopped before a run began; an interrupted run stays open, as it was
            self._log(None, "stopped before the unit's run began; an interrupted run stays open", "warning")
        except Exception as exc:  # the worker thread must survive to serve the next unit
            cause = str(exc) if isinstance(exc, StationError) else "internal error, see the station log"
            message = (
                f"the station could not finish this unit ({type(exc).__name__}: {cause}); "
                "set the unit aside and call the line engineer: the run is resolved on restart"
            )
            self._log(None, message, "error")
            self._publish(SlotChanged(self.fixture.slot, time.time(), SlotState.FAILED, message))
            self._publish(Fault(self.fixture.slot, time.time(), FaultKind.STATION, message))
        return True

    def _one_unit(self) -> bool:
        """The slot's unit, from its run's start to its record; False if it got no run (passed before)."""
        client = self._client()
        begun = self._resume_or_begin(client)
        if begun is None:
            return False
        run_id, prior = begun
        flow = self.services.flow_for(SlotUnit(self.fixture, client, prior))
        plan, mode = flow.plan(), self.services.mode
        started, clock = datetime.now(UTC), time.monotonic()
        self._publish(
            RunStarted(
                self.fixture.slot, time.time(), run_id, mode, tuple(_names(plan)), resumed=prior is not None
            )
        )
        store = self.services.store
        ctx = RunContext(run_id, self.fixture.slot, mode, store, self.services.cancel, self.services.bus)
        result = Engine(self.services.bus).run(ctx, plan)
        if self._stopped_after_writing(run_id, result):
            return True  # left open, exactly as after a crash: the next start resumes or closes it
        if self._power_cycle_resumes(run_id, result):
            return True  # the resumed run wrote the record
        self._after_run(run_id, client, result)
        frame = RunFrame(
            model.FixtureRef(self.fixture.slot, self.fixture.port),
            self.services.operator,
            started,
            self.fixture.simulated or client.simulated_unit,  # a simulator says so in its replies
        )
        draft = flow.draft(result, frame)
        stored = self.services.writer.append(draft, run_id=run_id)
        self._report(run_id, result, stored, flow.unit_id, time.monotonic() - clock)
        if result.outcome is Outcome.PASS:
            self._after_pass(run_id, stored)
        return True

    def _stopped_after_writing(self, run_id: str, result: RunResult) -> bool:
        """A run the station's stop interrupted after it may have written to its unit stays open.

        Every write to a unit is journalled as an ``intent`` first, so a run without one wrote nothing.
        Closing one that has would record a verdict about a unit in an unknown state; left open, the next
        start treats it as after a crash (resumed on the same unit, or closed naming why). A stopped run
        that wrote nothing is closed ``aborted`` by the caller, as before.
        """
        if result.outcome is not Outcome.ABORTED or not self.services.cancel.is_set():
            return False
        journal = self.services.store.run_journal(run_id)
        if not any(entry.phase == "intent" for entry in journal):
            return False
        step = result.failure.step if result.failure is not None else "a step"
        message = (
            f"stopped during {step} after writing to the unit: run {run_id[:8]} stays open and is resumed "
            "or closed at the next start; leave the unit in the slot"
        )
        self.services.verdicts.interrupted(run_id)
        self._log(run_id, message, "warning")
        self._publish(SlotChanged(self.fixture.slot, time.time(), SlotState.FAILED, message))
        self._publish(Fault(self.fixture.slot, time.time(), FaultKind.INTERRUPTED, message, run_id))
        return True

    def _after_pass(self, run_id: str, stored: StoredRecord) -> None:
        """Label printing and the like: after the record is durable; a fault here never fails the unit."""
        hook = self.services.after_pass
        if hook is None:
            return
        try:
            message = hook(stored)
        except StationError as exc:
            message = f"{LABEL_NOT_PRINTED}: {exc}"
        if not message:
            return
        printed = not message.startswith(LABEL_NOT_PRINTED)
        self._log(run_id, message, "info" if printed else "warning")
        self._publish(
            Fault(self.fixture.slot, time.time(), FaultKind.LABEL, message, run_id, cleared=printed)
        )

    def _slot_health(self, trouble: str | None) -> None:
        """The fixture cannot reach or sense units (``trouble``), or can again (None)."""
        self._publish(
            Fault(self.fixture.slot, time.time(), FaultKind.SLOT, trouble or "", cleared=not trouble)
        )

    def _after_run(self, run_id: str, client: PpaClient, result: RunResult) -> None:
        """Say plainly when the unit left mid-run; note when another unit already took its place."""
        if isinstance(client, GuardedClient) and client.replaced():
            self._new_unit_in_slot = True
        elif run_id in self._power_cycled or result.outcome is Outcome.ABORTED:
            return  # power-cycled and not back: the failure says what the station saw
        elif result.failure is not None and not self.fixture.presence.present():
            result.failure = left_the_slot(result.failure, self.fixture.slot) or result.failure

    def _power_cycle_resumes(self, run_id: str, result: RunResult) -> bool:
        """A unit that stopped answering is power-cycled once; when it answers again, the run resumes."""
        power = self.fixture.power
        if power is None or run_id in self._power_cycled or not power_cycle_helps(result.failure):
            return False
        if self.services.cancel.is_set():
            return False
        self._power_cycled.add(run_id)
        assert result.failure is not None
        self._log(run_id, f"the unit stopped answering in {result.failure.step}: power-cycling it", "warning")
        try:
            power.cycle()
        except FixtureError as exc:
            self._log(run_id, f"power cycle failed: {exc}", "error")
            return False
        deadline = time.monotonic() + POWER_CYCLE_WAIT
        while not self.fixture.presence.present():
            if time.monotonic() > deadline or self.services.cancel.wait(PRESENCE_POLL):
                return False
        self.open_run = next((r for r in self.services.store.open_runs() if r.run_id == run_id), None)
        if self.open_run is None:
            return False
        self._one_unit()
        return True

    def _resume_or_begin(self, client: PpaClient) -> tuple[str, Prior | None] | None:
        """Continue the slot's interrupted run if its unit is still here; else start a new run.

        None: no run, the slot holds a unit that had passed already (shown as such).
        """
        run, self.open_run = self.open_run, None
        mode = self.services.mode
        if run is None:
            return self._begin(client)
        prior = prior_from_journal(self.services.store.run_journal(run.run_id))
        same = self._same_unit(client, prior) if run.mode == "production" == mode else False
        if same:
            self._log(run.run_id, f"resuming run {run.run_id} interrupted by a station stop")
            return run.run_id, prior
        self._abandon(run, prior, unidentified=same is None, simulated=client.simulated_unit)
        return self._begin(client)

    def _begin(self, client: PpaClient) -> tuple[str, None] | None:
        """A new run for the slot's unit; None when the unit already passed and is unchanged (shown so)."""
        passed = self._passed_before(client)
        if passed is not None:
            self._show_passed(passed)
            return None
        return self.services.store.begin_run(self.fixture.slot, self.services.mode), None

    def _passed_before(self, client: PpaClient) -> PassedUnit | None:
        """The unit's passing record if it passed here (or on the line) and is unchanged since, else None.

        Only a personalised unit can have passed: a unit that says it is not (or does not answer that
        first question) starts its run at once, and its identify step reads it with its own retries.
        A personalised unit that does not answer the rest is asked again a few times, as a resumed
        run's unit is: a false "not passed" would fail a good unit.
        """
        check = self.services.already_passed
        if check is None:
            return None
        try:
            with call_deadline(time.monotonic() + RESUME_CHECK_WITHIN):
                if not personalised(client):
                    return None
        except DeviceError:
            return None
        try:
            return self._ask_again(lambda: check(client))
        except RecordError as exc:
            self._log(None, f"could not compare the unit with its records ({exc}); it gets a run", "warning")
            return None

    def _show_passed(self, passed: PassedUnit) -> None:
        """PASS again for a unit that passed before and is unchanged: nothing is run or recorded."""
        record, unit = passed.record, passed.unit_id or "the unit"
        self._log(
            None,
            f"{unit} already passed (record {record.record_id} in {passed.where}) and is unchanged since: "
            "no new run, no new record; remove it",
        )
        now = time.time()
        self._publish(SlotChanged(self.fixture.slot, now, SlotState.DONE))
        self._publish(AlreadyPassed(self.fixture.slot, now, passed.unit_id, record.record_id))

    def _same_unit(self, client: PpaClient, prior: Prior) -> bool | None:
        """Whether the unit in the slot is the one the interrupted run wrote to (if it wrote anything).

        A unit that does not answer is asked again a few times (it may be booting). If it still cannot be
        identified, the run is resumed only when it wrote nothing identifying yet; otherwise it is closed
        with an ``aborted`` record: resuming on a unit swapped meanwhile would provision the new unit
        under the old unit's run and leave the old one without a verdict (found by ``bench/chaos.py``).
        """
        if prior.genuine_id is None and prior.personalised_eid is None:
            return True  # nothing identifying was written: resuming cannot harm another unit
        return self._ask_again(lambda: self._identity_matches(client, prior))  # None: could not tell

    def _ask_again(self, question: Callable[[], Answer]) -> Answer | None:
        """``question`` under the resume deadline, asked again while the unit does not answer (it may be
        booting); None when it never does. A stop during the pauses raises Cancelled: the stop, not the
        unit, so whatever the caller was deciding stays undecided (an interrupted run stays open)."""
        for attempt in range(IDENTIFY_ATTEMPTS):
            try:
                with call_deadline(time.monotonic() + RESUME_CHECK_WITHIN):
                    return question()
            except DeviceError:
                if attempt + 1 == IDENTIFY_ATTEMPTS:
                    break  # no pause after the last attempt: nothing follows it
                if self.services.cancel.wait(IDENTIFY_BACKOFF * (attempt + 1)):
                    raise Cancelled from None
        return None

    def _identity_matches(self, client: PpaClient, prior: Prior) -> bool:
        if client.status().inited:
            eid = prior.personalised_eid
            return eid is not None and client.token_challenge().eid == eid
        if prior.genuine_id is None:
            return True  # no secure-element identity was journalled: nothing to compare
        return genuine_id_of(client.attestation()) == prior.genuine_id

    def _abandon(
        self, run: Run, prior: Prior, *, unidentified: bool = False, simulated: bool = False
    ) -> None:
        """Close an interrupted run whose unit has gone, with an ``aborted`` record saying so."""
        now, journal = datetime.now(UTC), self.services.store.run_journal(run.run_id)
        removed, reason = _abandon_reason(run.mode, self.services.mode)
        if unidentified:
            reason = "the unit in the slot did not answer to be identified; set it aside for QA"
        draft = model.RecordDraft(
            mode=run.mode,
            operator=self.services.operator,
            fixture=model.FixtureRef(self.fixture.slot, self.fixture.port),
            unit=model.UnitIdentity(genuine_id=prior.genuine_id, eid=prior.personalised_eid),
            provisioning=journal_evidence(journal),
            steps=(),
            outcome="aborted",
            failure=model.Failure(
                "resume",
                "unit-unidentified" if unidentified else "unit-removed" if removed else "interrupted",
                f"the station stopped during this {run.mode} run: {reason}",
            ),
            started=now,
            finished=now,
            simulated=self.fixture.simulated or simulated or journal_simulated(journal),
        )
        try:
            self.services.writer.append(draft, run_id=run.run_id)
        except RecordError as exc:
            self._log(run.run_id, f"could not close interrupted run: {exc}", "error")

    def _report(
        self, run_id: str, result: RunResult, stored: StoredRecord, unit_id: str | None, seconds: float
    ) -> None:
        failure = result.failure
        self.services.verdicts.append(
            Verdict(
                self.fixture.slot,
                run_id,
                result.outcome,
                stored,
                failure,
                seconds,
                {s.name: (s.finished - s.started).total_seconds() for s in result.steps},
            )
        )
        state = SlotState.DONE if result.outcome is Outcome.PASS else SlotState.FAILED
        self._publish(SlotChanged(self.fixture.slot, time.time(), state))
        self._publish(
            RunFinished(
                self.fixture.slot,
                time.time(),
                run_id,
                result.outcome,
                unit_id,
                stored.record_id,
                failure.step if failure else None,
                failure.message if failure else "",
                failure.code if failure else None,
            )
        )

    def _publish(self, event: Event) -> None:
        self.services.bus.publish(event)
        indicator, colour = self.fixture.indicator, lamp_colour(event)
        if indicator is not None and colour is not None:
            try:
                indicator.show(colour)
            except FixtureError as exc:  # a broken lamp must not stop provisioning
                self._log(None, f"slot lamp: {exc}", "warning")

    def _log(self, run_id: str | None, message: str, level: str = "info") -> None:
        self.services.bus.publish(LogLine(self.fixture.slot, time.time(), run_id, level, message))


def _same_boot(presence: PresenceSensor, boots: BootSensor) -> Callable[[], bool]:
    """Present, and still in the boot this wait first saw (its uptime never went down)."""
    last: int | None = None

    def look() -> bool:
        nonlocal last
        if not presence.present():
            return False
        uptime = boots.last_uptime()
        if uptime is not None and last is not None and uptime < last:
            return False
        last = uptime if uptime is not None else last
        return True

    return look


def _abandon_reason(run_mode: str, station_mode: str) -> tuple[bool, str]:
    """Why an interrupted run cannot be resumed: (the unit was removed?, a sentence for the record)."""
    if run_mode == "production" == station_mode:
        return True, "the unit was removed before it could be resumed; set the unit aside for QA"
    if run_mode == "production":
        return False, f"the station restarted in {station_mode} mode; set the unit aside for QA"
    return False, f"{run_mode} runs are not resumed; start the unit again"


def _names(plan: list[Step | Group]) -> list[str]:
    names: list[str] = []
    for item in plan:
        names.extend(step.name for step in (item.steps if isinstance(item, Group) else (item,)))
    return names
