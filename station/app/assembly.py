"""Assembly: a ``StationConfig`` turned into the parts a station runs with, one small function per part.

>>> from station.core.config import FixtureConfig as Slot, StationSection
>>> config = StationConfig(StationSection(id="st01"), fixtures=(Slot("N1", "network", url="http://127.0.0.1:1"),))
>>> check_and_plan(config, Choices())         # the configuration's checks first: nothing opened or started
Traceback (most recent call last):
station.core.errors.ConfigError: ...[profile] no [profile.<name>] configured
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from station.app.data import StationData
from station.core.codec import b64decode
from station.core.config import SIMULATED_KIND, Profile, StationConfig
from station.core.errors import BackendError, ConfigError
from station.devices.springcore.configdata import ConfigData
from station.devices.springcore.profile import load_reader_profiles
from station.factory.backend import Backend, LocalBackend
from station.factory.firmware import FirmwareCatalog, release_public_key
from station.factory.profilecheck import check_profiles, check_secret_sources
from station.factory.remote import NoCaService, RemoteBackend, configured_ca
from station.factory.settingscheck import check_key_files, check_settings
from station.fixtures import registry
from station.fixtures.base import Fixture
from station.fixtures.companion import ReaderLink
from station.labels.service import LabelService
from station.pipeline.modes.readers import ReadersDeps
from station.records import jws
from station.records.line.link import LineLink
from station.records.store.sqlite import SqliteStore
from station.records.writer import RecordWriter


@dataclass(frozen=True)
class Choices:
    """What the caller picks among the configuration's tables, and how simulated units behave."""

    timing: str = "fast"  # timing profile of simulated units
    profile: str | None = None  # [profile.<name>]: None = "default", else the first
    reader_profile: str | None = None  # [reader_profile.<name>]: the same rule
    personalises: bool = True  # production, rma: the batch passphrase goes into units (its strength checked)


@dataclass(frozen=True)
class Plan:
    """What the configuration alone decides, checked before anything is opened or started."""

    profile_name: str
    profile: Profile
    firmware: FirmwareCatalog | None
    labels: LabelService | None
    readers: ReadersDeps | None


@dataclass(frozen=True)
class StationParts:
    """Everything a station runs with, assembled once; ``Station`` holds it for its whole life."""

    config: StationConfig
    data_dir: Path
    environ: Mapping[str, str] = field(repr=False)  # may hold the batch secrets (and a token PIN)
    plan: Plan
    store: SqliteStore
    writer: RecordWriter
    backend: Backend
    fixtures: list[Fixture]
    line: LineLink | None  # [store] line: cross-station lookups and the background sync


def assemble(
    config: StationConfig, data_dir: Path, environ: Mapping[str, str], choices: Choices, undo: ExitStack
) -> StationParts:
    """The station's parts; fixtures made are registered on ``undo``, to be closed if a later step fails."""
    plan = check_and_plan(config, choices)
    check_key_files(config, data_dir)  # the data directory's key files: before they are opened
    store, signing = _open_data(config, data_dir, environ)
    writer = RecordWriter(
        store, signing, jws.key_id(signing.public_key()), config.station.id, config_sha256=config.sha256
    )
    backend = _backend(config, data_dir, environ)
    fixtures = _fixtures(config, backend, choices.timing, undo)
    _refuse_readers_without_profile(config, fixtures)
    if not all(is_reader(fixture) for fixture in fixtures):  # PPA slots: the factory CA, the batch secrets
        _require_ca(config, backend)
        check_secret_sources(
            plan.profile,
            plan.profile_name,
            source=config.path,
            environ=environ,
            base_dir=config.base_dir,
            personalises=choices.personalises,
        )
    line = LineLink(store, config.store.line, signing.public_key()) if config.store.line else None
    return StationParts(config, data_dir, environ, plan, store, writer, backend, fixtures, line)


def check_and_plan(config: StationConfig, choices: Choices) -> Plan:
    """Every check that needs only the configuration, by the module that owns it; opens and starts nothing.

    The sections' own rules first (the fixtures' kinds, the label, the reader profiles' files: what
    ``load`` refused before the owners checked them), then the choices made among them.
    """
    context = _fixture_context(config, b"", choices.timing)  # checks build nothing: no backend key yet
    for index, fixture in enumerate(config.fixtures):
        registry.check(fixture, context, index)
    labels = LabelService.from_config(config)  # [label]: printer address, template (None: labels off)
    loaded = load_reader_profiles(config)
    name, profile = _profile(config, choices.profile)
    if not config.fixtures:
        raise ConfigError("no [[fixture]] configured", path=config.path, key="fixture")
    check_profiles(config)  # every cfg value, the escrow key: refused now, not after a one-shot write
    check_settings(config)  # [backend] url and check-in key, [firmware] require and release_key
    return Plan(
        profile_name=name,
        profile=profile,
        firmware=_firmware(config),
        labels=labels,
        readers=_readers_deps(config, choices.reader_profile, loaded),
    )


def _open_data(
    config: StationConfig, data_dir: Path, environ: Mapping[str, str]
) -> tuple[SqliteStore, jws.Signer]:
    """The data directory's record store and record-signing key, created on first start (``StationData``)."""
    data = StationData.open(config, data_dir=data_dir, environ=environ, create=True)
    return data.store(), data.signing_key()


def _backend(config: StationConfig, data_dir: Path, environ: Mapping[str, str]) -> Backend:
    if config.backend.kind == "remote":
        assert config.backend.url is not None  # validated by config
        key = config.backend.checkin_key
        return RemoteBackend(
            config.backend.url, checkin_key=b64decode(key) if key else None, ca=configured_ca(config)
        )
    return LocalBackend.from_keys(
        config.keys, data_dir, name=config.station.id, base_dir=config.base_dir, environ=environ
    )


def _require_ca(config: StationConfig, backend: Backend) -> None:
    """Every PPA mode checks units' certificates against the factory CA: a remote backend without one
    configured must serve ``GET /ca``; one that has no such path (Encedo's) stops the start here. One
    that does not answer now is not refused: its units' verdicts will say so."""
    if not isinstance(backend, RemoteBackend) or backend.ca_configured:
        return
    try:
        backend.ca_certificate()
    except NoCaService as exc:
        raise ConfigError(str(exc), path=config.path, key="backend.ca_certificate") from None
    except BackendError:
        pass


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


def _firmware(config: StationConfig) -> FirmwareCatalog | None:
    folder = config.resolve(config.firmware.dir)
    if config.firmware.require is None:
        return None
    if not folder.is_dir():
        raise ConfigError(f"firmware folder {folder} does not exist", path=config.path, key="firmware.dir")
    assert config.firmware.release_key is not None  # check_settings: a requirement needs the key
    catalog = FirmwareCatalog.load(folder, release_public_key(config.firmware.release_key))
    catalog.image_for(config.firmware.require)  # an image that meets the requirement: now, not per unit
    return catalog


def _readers_deps(
    config: StationConfig, name: str | None, loaded: Mapping[str, ConfigData]
) -> ReadersDeps | None:
    """The reader profile (``name``, else "default", else the first) with its loaded configuration."""
    if not config.reader_profiles:
        return None
    chosen = _chosen(config, config.reader_profiles, name, "reader_profile")
    return ReadersDeps(chosen, config.reader_profiles[chosen], loaded[chosen])


def _fixture_context(config: StationConfig, backend_key: bytes, timing: str) -> registry.FixtureContext:
    return registry.FixtureContext(
        backend_key=backend_key,
        timing=timing,
        config_path=config.path,
        usb_ids=_usb_ids(config),
        request_spacing=config.station.request_spacing,
    )


def _usb_ids(config: StationConfig) -> tuple[int, int] | None:
    """The PPA's USB vendor and product id from ``[fixtures]`` (usbnet slots given by port need them)."""
    ids = config.fixture_hardware
    if ids.usb_vendor is None or ids.usb_product is None:
        return None
    return ids.usb_vendor, ids.usb_product


def _fixtures(config: StationConfig, backend: Backend, timing: str, undo: ExitStack) -> list[Fixture]:
    """The slots, in file order; simulated units trust the backend's check-in key."""
    simulated = any(fixture.kind == SIMULATED_KIND for fixture in config.fixtures)
    context = _fixture_context(config, backend.checkin_public_key() if simulated else b"", timing)
    fixtures: list[Fixture] = []
    undo.callback(close_all, fixtures)  # a failure further on releases the ones made so far
    fixtures.extend(registry.create(f, context, index) for index, f in enumerate(config.fixtures))
    return fixtures


def _refuse_readers_without_profile(config: StationConfig, fixtures: list[Fixture]) -> None:
    if config.reader_profiles or not any(is_reader(fixture) for fixture in fixtures):
        return
    raise ConfigError(
        "companion (reader) fixtures need a [reader_profile.<name>] with the readers' configuration",
        path=config.path,
        key="reader_profile",
    )


def is_reader(fixture: Fixture) -> bool:
    """A reader slot (companion, or a simulated reader) runs the readers flow, not a PPA mode."""
    return isinstance(fixture.link, ReaderLink)


def close_all(fixtures: list[Fixture]) -> None:
    for fixture in fixtures:
        fixture.close()
