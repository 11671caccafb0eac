"""The station at run time: provisions units over the assembled parts in one mode, until stopped or closed.

>>> import tempfile; from station import sim; from station.app.demo import demo_config
>>> sim.install()                                 # as the entry points do: the ``simulated`` fixture kind
>>> with tempfile.TemporaryDirectory() as folder:
...     station = Station.open(demo_config(Path(folder), fixtures=2), mode="qa")   # ``run(units=16)`` blocks
...     [fixture.slot for fixture in station.fixtures], station.mode, station.close()
(['A1', 'A2'], 'qa', None)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.app.assembly import Choices, StationParts, assemble, close_all, is_reader
from station.app.datalock import DataDirLock
from station.core.config import StationConfig
from station.core.errors import ConfigError
from station.core.events import EventBus, LogLine
from station.core.operator import Operator
from station.devices.ppa.client import PpaClient
from station.devices.ppa.protocol import derive_user_private_key
from station.devices.transport import abort_all, reset_abort
from station.factory.backend import Backend
from station.factory.escrow import EscrowKey
from station.factory.keys.keystore import configured_public_key, open_escrow
from station.factory.keys.secrets import UnitSecrets, seal_secrets, secrets_for_unit
from station.fixtures.base import Fixture
from station.fixtures.companion import ReaderLink
from station.labels.service import LabelService
from station.pipeline.flow import Flow, SlotUnit
from station.pipeline.kdf import KDF_SLOTS
from station.pipeline.modes.production import Prior, ProductionDeps, ProductionFlow
from station.pipeline.modes.qa.access import NO_ESCROW
from station.pipeline.modes.qa.flow import QaDeps, QaFlow
from station.pipeline.modes.qa.record import RecordSource
from station.pipeline.modes.qa.sealed import sealed_record, sealed_user_key
from station.pipeline.modes.readers import ReadersFlow
from station.pipeline.modes.rma.flow import RmaDeps, RmaFlow, RmaPolicy
from station.pipeline.passed import PassedCheck, newest_known
from station.pipeline.scans import ScanBox
from station.pipeline.slot import SlotServices, SlotWorker, UnitQuota
from station.pipeline.tally import VERDICTS_KEPT, Verdict, VerdictTally
from station.records import jws
from station.records.entries import StoredRecord
from station.records.history import unit_history
from station.records.store import RecordStore
from station.records.store.sqlite import SqliteStore
from station.records.writer import RecordWriter

MODES = ("production", "qa", "rma")
STOP_WITHIN = 2.5  # seconds ``run`` waits for the slots after ``stop`` (their requests were aborted)

log = logging.getLogger("station")


@dataclass
class Station:
    """A station opened for one mode and operator: ``open`` builds it, ``run`` provisions, ``close`` ends."""

    parts: StationParts  # what the configuration assembled into (assembly.py)
    operator: Operator
    lock: DataDirLock  # held from open to close: one station process per data directory
    mode: str = "production"  # production | qa | rma (docs/architecture.md): the flow every PPA slot runs
    client_timeout: float = 10.0
    rma: RmaPolicy = field(default_factory=RmaPolicy)  # rma mode: unknown units, passphrase, backend wipe
    bus: EventBus = field(default_factory=EventBus)
    cancel: threading.Event = field(default_factory=threading.Event)  # ``stop``: now, requests cut
    finishing: threading.Event = field(default_factory=threading.Event)  # ``finish``: no new units
    scans: ScanBox = field(default_factory=ScanBox)  # codes scanned for a slot (readers' inventory)
    tally: VerdictTally | None = None  # the verdicts of the current (or last) run
    escrow: EscrowKey | None = None  # QA/RMA: [keys] escrow, which opens sealed units' passphrases

    @classmethod
    def open(
        cls,
        config: StationConfig,
        *,
        data_dir: Path | None = None,
        timing: str = "fast",
        environ: Mapping[str, str] | None = None,
        operator: Operator | None = None,
        profile: str | None = None,
        client_timeout: float = 10.0,
        mode: str = "production",
        reader_profile: str | None = None,
        rma: RmaPolicy | None = None,
    ) -> Station:
        """Build the station for ``mode``; ``client_timeout`` bounds every unit request (short in tests)."""
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}", path=config.path)
        data = data_dir or config.resolve(config.station.data_dir)
        env = dict(os.environ if environ is None else environ)  # also where a token PIN may come from
        choices = Choices(timing, profile, reader_profile, personalises=mode != "qa")  # qa writes no secret
        with ExitStack() as undo:
            lock = DataDirLock.acquire(data)  # one station process per data directory
            undo.callback(lock.release)
            parts = assemble(config, data, env, choices, undo)
            # Only a QA or RMA bench holds the escrow private key; a bad key file stops it here.
            escrow = open_escrow(config.keys, data) if mode in ("qa", "rma") else None
            operator = operator or Operator("station", "operator")
            station = cls(
                parts,
                operator,
                lock,
                mode=mode,
                client_timeout=client_timeout,
                rma=rma or RmaPolicy(),
                escrow=escrow,
            )
            undo.pop_all()  # opened: the station owns the lock and the fixtures until close()
            return station

    # --- the assembled parts, by their former names (the window, the CLI and tests read them) -------

    @property
    def config(self) -> StationConfig:
        return self.parts.config

    @property
    def data_dir(self) -> Path:
        return self.parts.data_dir

    @property
    def store(self) -> SqliteStore:
        return self.parts.store

    @property
    def writer(self) -> RecordWriter:
        return self.parts.writer

    @property
    def fixtures(self) -> list[Fixture]:
        return self.parts.fixtures

    @property
    def labels(self) -> LabelService | None:
        """``[label]``: a unit label after every pass (None: labels off)."""
        return self.parts.plan.labels

    @property
    def profile_name(self) -> str:
        return self.parts.plan.profile_name

    @property
    def backend(self) -> Backend:
        return self.parts.backend

    @backend.setter
    def backend(self, backend: Backend) -> None:
        """Tests put a backend double in; units started from now on use it."""
        self.parts = replace(self.parts, backend=backend)

    @property
    def signing_public_key(self) -> Ed25519PublicKey:
        key = configured_public_key(self.config.keys, "signing", self.data_dir)
        assert isinstance(key, Ed25519PublicKey)  # the station opened (and so created) it
        return key

    def ca_certificate(self) -> x509.Certificate:
        return self.backend.ca_certificate()

    def run(self, units: int | None = None) -> list[Verdict]:
        """Provision until ``units`` verdicts (None: until ``cancel`` is set); returns the verdicts.

        A run of more than ``tally.VERDICTS_KEPT`` units (or an open-ended one) returns only the latest
        ``VERDICTS_KEPT`` verdicts; ``self.tally`` has the counts of all of them.
        """
        # A shift-long run keeps its counts but only the latest verdicts: memory stays flat (tally.py).
        verdicts = VerdictTally(keep=units if units is not None and units <= VERDICTS_KEPT else VERDICTS_KEPT)
        self.tally = verdicts
        if not self.cancel.is_set():
            reset_abort()  # requests work again (a station stopped earlier in this process aborted them)
        if self.mode == "qa" and self.escrow is None:
            self.bus.publish(LogLine("station", time.time(), None, "warning", NO_ESCROW))
        workers = self._workers(self._services(units, verdicts))
        line = self.parts.line
        if line is not None:
            line.start(self.bus)  # background sync, woken by every finished unit
        for worker in workers:
            worker.start()
        if self._wait_for(workers) and self.cancel.is_set():
            reset_abort()  # every slot has ended: nothing of this run can send anything any more
        if line is not None:
            line.stop()  # a last sync pushes the records of the final units
        return verdicts.recent

    def _wait_for(self, workers: list[threading.Thread]) -> bool:
        """Until every slot's worker ends (True); after ``stop``, for ``STOP_WITHIN`` seconds at most.

        A worker still alive then is reported and left behind (False): a daemon thread that cannot write
        to its unit, as every request fails since the stop; its open run is resolved at the next start.
        """
        stopping_since: float | None = None
        while alive := [worker for worker in workers if worker.is_alive()]:
            if self.cancel.is_set():
                stopping_since = stopping_since or time.monotonic()
                if time.monotonic() - stopping_since >= STOP_WITHIN:
                    self._report_stuck(alive)
                    return False
            alive[0].join(0.1)
        return True

    def _report_stuck(self, alive: list[threading.Thread]) -> None:
        names = ", ".join(worker.name for worker in alive)
        message = f"{names} did not stop within {STOP_WITHIN:g} s; its run is resolved at the next start"
        log.error("%s", message)
        self.bus.publish(LogLine("station", time.time(), None, "error", message))

    def _services(self, units: int | None, verdicts: VerdictTally) -> SlotServices:
        """What every PPA slot's worker shares during one run."""
        labels = self.labels
        return SlotServices(
            store=self.store,
            writer=self.writer,
            flow_for=self._flow,
            operator=self.operator,
            bus=self.bus,
            quota=UnitQuota(units, closed=self.finishing),
            cancel=self.cancel,
            verdicts=verdicts,
            client_timeout=self.client_timeout,
            mode=self.mode,
            after_pass=labels.after_pass if labels is not None else None,
            already_passed=self._passed_check() if self.mode == "production" else None,
        )

    def _passed_check(self) -> PassedCheck:
        """Production: a unit that passed before and is unchanged (a restart over full slots) gets no run."""
        records_of_eid = self.store.records_of_instance  # the unit shows its eid before any login
        return PassedCheck(records_of_eid, self._record_sources(), self.ca_certificate, self._warn)

    def _record_sources(self) -> tuple[RecordSource, ...]:
        """This station's records (its own key), then the line database's (its registered keys)."""
        own = jws.trusted_keys_from([self.signing_public_key])
        sources = [RecordSource("this station's records", self.store, lambda: own)]
        if self.parts.line is not None:
            line = self.parts.line.lookups
            sources.append(RecordSource(f"the line database {line.name}", line, line.station_keys))
        return tuple(sources)

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self.bus.publish(LogLine("station", time.time(), None, "warning", message))

    def _workers(self, services: SlotServices) -> list[threading.Thread]:
        """One thread per slot, each resuming its slot's run left open by a crash; readers run their flow."""
        open_runs = {run.slot: run for run in self.store.open_runs()}  # other modes' runs are closed
        readers = replace(services, mode="readers", flow_for=self._readers_flow, already_passed=None)
        return [
            threading.Thread(
                target=SlotWorker(
                    fixture, readers if is_reader(fixture) else services, open_runs.get(fixture.slot)
                ).run,
                name=f"slot-{fixture.slot}",
                daemon=True,
            )
            for fixture in self.fixtures
            if self.mode == "production" or not is_reader(fixture)  # QA/RMA are for PPAs: readers rest
        ]

    def finish(self) -> None:
        """Start no new unit; ``run`` returns once the units in progress have their verdicts (cooperative:
        a mode switch or a logout lets every started unit finish instead of aborting it)."""
        self.finishing.set()

    def stop(self) -> None:
        """Stop now: no new step starts, and every open request to a unit or the backend fails at once.

        No thread is killed: each slot sees its request fail, ends its step as aborted and writes nothing
        more to its unit. A run that had started writing stays open in the journal, exactly as after a
        crash, and the next start resumes or closes it; ``run`` returns within ``STOP_WITHIN`` seconds.
        """
        self.cancel.set()
        abort_all("the station is stopping")

    def close(self) -> None:
        """Release the fixtures, stop the line sync, free the data directory (idempotent)."""
        close_all(self.fixtures)
        if self.parts.line is not None:
            self.parts.line.stop()
        self.lock.release()

    # --- the flow of each mode ----------------------------------------------------------------------

    def _flow(self, unit: SlotUnit) -> Flow:
        """The flow of the station's mode for one unit (each mode's builder is a method below)."""
        builders = {"production": self._production_flow, "qa": self._qa_flow, "rma": self._rma_flow}
        return builders[self.mode](unit)

    def _production_flow(self, unit: SlotUnit) -> Flow:
        return self._production(unit.client, unit.prior)

    def _qa_flow(self, unit: SlotUnit) -> Flow:
        return QaFlow(unit.client, self._qa_deps())

    def _qa_deps(self) -> QaDeps:
        """Records: this station's store (its own key), then the line database (its registered keys).

        The login key: with ``[keys] escrow``, the passphrase sealed in the unit's record; else (or for a
        unit whose record seals nothing) the batch profile's, derived as production did. A sealed profile
        without the escrow key has none (QA then says so for personalised units).
        """
        user_key = self._qa_user_key if self.parts.plan.profile.secrets == "batch" else None
        return QaDeps(
            self.backend, self._record_sources(), user_key, profile_name=self.profile_name, escrow=self.escrow
        )

    def _qa_user_key(self, eid: str) -> bytes:
        """The user private key of the unit with ``eid`` under the batch profile (600 000 PBKDF2 rounds)."""
        return derive_user_private_key(self._new_secrets().passphrase, eid)

    def _rma_flow(self, unit: SlotUnit) -> Flow:
        scope = "this station's records" + (" and the line database" if self.parts.line is not None else "")
        escrowed = self._escrowed_key if self.escrow is not None else None
        production = self._production(unit.client, None).deps
        deps = RmaDeps(production, self._unit_history, self.rma, scope, escrowed=escrowed)
        return RmaFlow(unit.client, deps, slot=unit.fixture.slot)

    def _escrowed_key(self, eid: str) -> tuple[str, bytes] | None:
        """RMA with ``[keys] escrow``: the returned unit's user key from the passphrase sealed in its record.

        None when no record of this instance seals its secrets (the customer's passphrase is then asked).
        """
        assert self.escrow is not None  # only wired in when the bench holds the key
        found = sealed_record(self._record_sources(), eid)
        if found is None:
            return None
        return found.stored.record_id, sealed_user_key(found, eid, self.escrow, KDF_SLOTS)

    def _unit_history(self, devid: str | None, genuine_id: str | None) -> list[StoredRecord]:
        """A returned unit's records here and in the line database (unreachable: the run ends in error)."""
        stores: list[RecordStore] = [self.store]
        if self.parts.line is not None:
            stores.append(self.parts.line.lookups)
        return unit_history(stores, devid=devid, genuine_id=genuine_id)

    def _readers_flow(self, unit: SlotUnit) -> Flow:
        link = unit.fixture.link
        assert isinstance(link, ReaderLink)  # only companion fixtures run the readers flow
        readers = self.parts.plan.readers
        if readers is None:  # assembly refuses reader slots without a profile; kept for safety
            raise ConfigError("reader fixtures need a [reader_profile.<name>]", path=self.config.path)
        client = link.client(timeout=self.client_timeout)  # [[fixture]] busy_deadline, if set
        return ReadersFlow(client, link.device_id(), replace(readers, scanned=self.scans.take))

    def _production(self, client: PpaClient, prior: Prior | None) -> ProductionFlow:
        line, plan = self.parts.line, self.parts.plan
        deps = ProductionDeps(
            backend=self.backend,
            # with a line database: this station's registry, then the line's
            find_production=line.find_production if line is not None else self.store.find_production,
            profile_name=plan.profile_name,
            profile=plan.profile,
            new_secrets=self._new_secrets,
            seal=self._seal,
            firmware=plan.firmware,
            required_fwv=self.config.firmware.require,
            unit_of_eid=self._unit_of_eid,
        )
        return ProductionFlow(client, deps, prior)

    def _unit_of_eid(self, eid: str) -> StoredRecord | None:
        """The newest record of the unit this station personalised as ``eid`` (refusals name the unit)."""
        return newest_known(self.store.records_of_instance(eid))

    def _new_secrets(self) -> UnitSecrets:
        plan = self.parts.plan
        return secrets_for_unit(
            plan.profile, environ=self.parts.environ, base_dir=self.config.base_dir, name=plan.profile_name
        )

    def _seal(self, secrets: UnitSecrets, unit_id: str) -> dict[str, object] | None:
        profile = self.parts.plan.profile
        if profile.secrets != "sealed" or profile.escrow_public_key is None:
            return None
        return seal_secrets(secrets, profile.escrow_public_key, devid=unit_id)
