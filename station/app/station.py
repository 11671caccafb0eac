"""The station: assembles configuration into fixtures, backend, record store and flows, and runs a mode.

Example::

    station = Station.open(load("station.toml"))
    verdicts = station.run(units=16)           # blocks; one worker thread per fixture
    station.close()

Start-up resolves the journal: every run left open by a crash is handed to its slot's worker, which
resumes it if the same unit is still there (DESIGN §1). Nothing here imports Qt; the GUI subscribes to
``station.bus``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.app.datalock import DataDirLock
from station.core.codec import b64decode
from station.core.config import Profile, StationConfig
from station.core.errors import ConfigDataError, ConfigError
from station.core.events import EventBus
from station.core.operator import Operator
from station.devices.ppa.client import PpaClient
from station.devices.ppa.protocol import derive_user_private_key
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.profile import load_reader_config
from station.factory.backend import Backend, LocalBackend
from station.factory.firmware import FirmwareCatalog
from station.factory.keys.keystore import configured_public_key, open_configured
from station.factory.keys.secrets import UnitSecrets, seal_secrets, secrets_for_unit
from station.factory.remote import RemoteBackend
from station.fixtures import registry
from station.fixtures.base import Fixture
from station.fixtures.companion import ReaderLink
from station.labels.service import LabelService
from station.pipeline.flow import Flow, SlotUnit
from station.pipeline.modes.production import Prior, ProductionDeps, ProductionFlow
from station.pipeline.modes.qa.flow import QaDeps, QaFlow
from station.pipeline.modes.qa.record import RecordSource
from station.pipeline.modes.readers import ReadersDeps, ReadersFlow
from station.pipeline.modes.rma.flow import RmaDeps, RmaFlow, RmaPolicy
from station.pipeline.scans import ScanBox
from station.pipeline.slot import SlotServices, SlotWorker, UnitQuota
from station.pipeline.tally import VERDICTS_KEPT, Verdict, VerdictTally
from station.records import jws
from station.records.entries import StoredRecord
from station.records.history import unit_history
from station.records.line.link import LineLink
from station.records.store import RecordStore
from station.records.store.sqlite import DEFAULT_FILENAME, SqliteStore
from station.records.writer import RecordWriter

MODES = ("production", "qa", "rma")


@dataclass
class Station:
    """A configured station; ``open`` builds it, ``run`` provisions units, ``close`` releases fixtures."""

    config: StationConfig
    data_dir: Path
    backend: Backend
    store: SqliteStore
    writer: RecordWriter
    fixtures: list[Fixture]
    profile_name: str
    profile: Profile
    firmware: FirmwareCatalog | None
    operator: Operator
    environ: Mapping[str, str] = field(repr=False)  # may hold the batch secrets
    client_timeout: float = 10.0
    bus: EventBus = field(default_factory=EventBus)
    cancel: threading.Event = field(default_factory=threading.Event)
    line: LineLink | None = None  # [store] line: cross-station lookups and the background sync
    mode: str = "production"  # production | qa | rma (DESIGN §1): the flow every PPA slot runs
    readers: ReadersDeps | None = None  # reader slots (companion fixtures) run the readers flow
    scans: ScanBox = field(default_factory=ScanBox)  # codes scanned for a slot (readers' inventory)
    labels: LabelService | None = None  # [label]: a unit label after every pass (None: labels off)
    tally: VerdictTally | None = None  # the verdicts of the current (or last) run
    lock: DataDirLock | None = None  # held from open to close: one station process per data directory
    rma: RmaPolicy = field(default_factory=RmaPolicy)  # rma mode: unknown units, passphrase, backend wipe
    finishing: threading.Event = field(default_factory=threading.Event)  # ``finish``: no new units

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
        with ExitStack() as undo:
            lock = DataDirLock.acquire(data)  # one station process per data directory
            undo.callback(lock.release)
            env = dict(os.environ if environ is None else environ)  # also where a token PIN may come from
            signing = open_configured(
                config.keys, "signing", data, base_dir=config.base_dir, environ=env
            ).ed25519()
            store = SqliteStore(data / DEFAULT_FILENAME)
            writer = RecordWriter(
                store,
                signing,
                jws.key_id(signing.public_key()),
                config.station.id,
                config_sha256=config.sha256,
            )
            backend = _backend(config, data, env)
            name, chosen = _profile(config, profile)
            simulated = any(fixture.kind == "simulated" for fixture in config.fixtures)
            context = registry.FixtureContext(
                backend_key=backend.checkin_public_key() if simulated else b"",
                timing=timing,
                config_path=config.path,
                usb_ids=_usb_ids(config),
            )
            fixtures: list[Fixture] = []
            undo.callback(_close_all, fixtures)  # a failure further on releases the ones made so far
            fixtures.extend(registry.create(f, context, index) for index, f in enumerate(config.fixtures))
            if not fixtures:
                raise ConfigError("no [[fixture]] configured", path=config.path, key="fixture")
            station = cls(
                config=config,
                data_dir=data,
                backend=backend,
                store=store,
                writer=writer,
                fixtures=fixtures,
                profile_name=name,
                profile=chosen,
                firmware=_firmware(config),
                operator=operator or Operator("station", "operator"),
                environ=env,
                client_timeout=client_timeout,
                line=LineLink(store, config.store.line, signing.public_key()) if config.store.line else None,
                mode=mode,
                readers=_readers_deps(config, reader_profile),
                labels=LabelService.from_config(config),
                rma=rma or RmaPolicy(),
                lock=lock,
            )
            undo.pop_all()  # opened: the station owns the lock and the fixtures until close()
            return station

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
        services = SlotServices(
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
            after_pass=self.labels.after_pass if self.labels is not None else None,
        )
        open_runs = {run.slot: run for run in self.store.open_runs()}  # other modes' runs are closed
        readers = replace(services, mode="readers", flow_for=self._readers_flow)
        workers = [
            threading.Thread(
                target=SlotWorker(
                    fixture, readers if _is_reader(fixture) else services, open_runs.get(fixture.slot)
                ).run,
                name=f"slot-{fixture.slot}",
                daemon=True,
            )
            for fixture in self.fixtures
            if self.mode == "production" or not _is_reader(fixture)  # QA/RMA are for PPAs: readers rest
        ]
        if self.line is not None:
            self.line.start(self.bus)  # background sync, woken by every finished unit
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if self.line is not None:
            self.line.stop()  # a last sync pushes the records of the final units
        return verdicts.recent

    def finish(self) -> None:
        """Start no new unit; ``run`` returns once the units in progress have their verdicts (cooperative:
        a mode switch or a logout lets every started unit finish instead of aborting it)."""
        self.finishing.set()

    def stop(self) -> None:
        """Ask every slot to stop after its current step (cooperative; never kills a thread)."""
        self.cancel.set()

    def close(self) -> None:
        for fixture in self.fixtures:
            fixture.close()
        if self.line is not None:
            self.line.stop()
        if self.lock is not None:
            self.lock.release()

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

        The login key comes from the station's profile: a batch profile derives the user key as
        production did; a sealed profile has none (QA then says so for personalised units).
        """
        own = jws.trusted_keys_from([self.signing_public_key])
        sources = [RecordSource("this station's records", self.store, lambda: own)]
        if self.line is not None:
            line = self.line.lookups
            sources.append(RecordSource(f"the line database {line.name}", line, line.station_keys))
        user_key = self._qa_user_key if self.profile.secrets == "batch" else None
        return QaDeps(self.backend, tuple(sources), user_key, profile_name=self.profile_name)

    def _qa_user_key(self, eid: str) -> bytes:
        """The user private key of the unit with ``eid`` under the batch profile (600 000 PBKDF2 rounds)."""
        return derive_user_private_key(self._new_secrets().passphrase, eid)

    def _rma_flow(self, unit: SlotUnit) -> Flow:
        scope = "this station's records" + (" and the line database" if self.line is not None else "")
        deps = RmaDeps(self._production(unit.client, None).deps, self._unit_history, self.rma, scope)
        return RmaFlow(unit.client, deps, slot=unit.fixture.slot)

    def _unit_history(self, devid: str | None, genuine_id: str | None) -> list[StoredRecord]:
        """A returned unit's records here and in the line database (unreachable: the run ends in error)."""
        stores: list[RecordStore] = [self.store]
        if self.line is not None:
            stores.append(self.line.lookups)
        return unit_history(stores, devid=devid, genuine_id=genuine_id)

    def _readers_flow(self, unit: SlotUnit) -> Flow:
        link = unit.fixture.link
        assert isinstance(link, ReaderLink)  # only companion fixtures run the readers flow
        if self.readers is None:
            raise ConfigError("reader fixtures need a [reader_profile.<name>]", path=self.config.path)
        client = CompanionClient(link.session(), link.base_url, timeout=self.client_timeout)
        deps = replace(self.readers, scanned=self.scans.take)
        return ReadersFlow(client, link.device_id(), deps)

    def _production(self, client: PpaClient, prior: Prior | None) -> ProductionFlow:
        lookup = self.line.find_production if self.line is not None else self.store.find_production
        deps = ProductionDeps(
            backend=self.backend,
            find_production=lookup,  # with a line database: this station's registry, then the line's
            profile_name=self.profile_name,
            profile=self.profile,
            new_secrets=self._new_secrets,
            seal=self._seal,
            firmware=self.firmware,
            required_fwv=self.config.firmware.require,
        )
        return ProductionFlow(client, deps, prior)

    def _new_secrets(self) -> UnitSecrets:
        return secrets_for_unit(
            self.profile, environ=self.environ, base_dir=self.config.base_dir, name=self.profile_name
        )

    def _seal(self, secrets: UnitSecrets, unit_id: str) -> dict[str, object] | None:
        if self.profile.secrets != "sealed" or self.profile.escrow_public_key is None:
            return None
        return seal_secrets(secrets, self.profile.escrow_public_key, devid=unit_id)


def _backend(config: StationConfig, data_dir: Path, environ: Mapping[str, str]) -> Backend:
    if config.backend.kind == "remote":
        assert config.backend.url is not None  # validated by config
        key = config.backend.checkin_key
        return RemoteBackend(config.backend.url, checkin_key=b64decode(key) if key else None)
    return LocalBackend.from_keys(
        config.keys, data_dir, name=config.station.id, base_dir=config.base_dir, environ=environ
    )


def _profile(config: StationConfig, name: str | None) -> tuple[str, Profile]:
    if not config.profiles:
        raise ConfigError("no [profile.<name>] configured", path=config.path, key="profile")
    chosen = _chosen(config, config.profiles, name, "profile")
    return chosen, config.profiles[chosen]


def _chosen(config: StationConfig, tables: Mapping[str, object], name: str | None, key: str) -> str:
    """``name``, else "default", else the first table of ``[key.<name>]``; an unknown name is refused."""
    chosen = name or ("default" if "default" in tables else next(iter(tables)))
    if chosen not in tables:
        configured = ", ".join(tables)
        raise ConfigError(f"no {key} {chosen!r}; configured: {configured}", path=config.path, key=key)
    return chosen


def _close_all(fixtures: list[Fixture]) -> None:
    for fixture in fixtures:
        fixture.close()


def _is_reader(fixture: Fixture) -> bool:
    return isinstance(fixture.link, ReaderLink)


def _readers_deps(config: StationConfig, name: str | None) -> ReadersDeps | None:
    """The reader profile (``name``, else "default", else the first) with its configuration loaded."""
    if not config.reader_profiles:
        return None
    chosen = _chosen(config, config.reader_profiles, name, "reader_profile")
    profile = config.reader_profiles[chosen]
    try:
        loaded = load_reader_config(config.resolve(profile.config), location=profile.location)
    except ConfigDataError as exc:
        raise ConfigError(str(exc), path=config.path, key=f"reader_profile.{chosen}.config") from None
    return ReadersDeps(chosen, profile, loaded)


def _usb_ids(config: StationConfig) -> tuple[int, int] | None:
    """The PPA's USB vendor and product id from ``[fixtures]`` (usbnet slots given by port need them)."""
    ids = config.fixture_hardware
    if ids.usb_vendor is None or ids.usb_product is None:
        return None
    return ids.usb_vendor, ids.usb_product


def _firmware(config: StationConfig) -> FirmwareCatalog | None:
    folder = config.resolve(config.firmware.dir)
    if config.firmware.require is None:
        return None
    if not folder.is_dir():
        raise ConfigError(f"firmware folder {folder} does not exist", path=config.path, key="firmware.dir")
    return FirmwareCatalog.load(folder)
