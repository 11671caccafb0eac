"""Typed station configuration: ``station.toml`` → frozen dataclasses, validated once at start-up.

>>> cfg = parse({"station": {"id": "st01"}, "fixture": [{"slot": "A1", "kind": "usbnet", "port": "1-1.2"}]})
>>> cfg.station.id, cfg.fixtures[0].port, cfg.backend.kind         # what the file leaves out has a default
('st01', '1-1.2', 'local')
>>> parse({"station": {"id": "st01", "colour": "red"}})        # unknown keys are refused, never ignored
Traceback (most recent call last):
station.core.errors.ConfigError: <memory>: [station.colour] unknown key; allowed: data_dir, id, ...
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import types
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from station.core.errors import ConfigError

INVENTORY_SOURCES = ("generated", "scanned")  # where a reader's inventory number comes from
SIMULATED_KIND = "simulated"  # the fixture kind a production station refuses (station.simulated = false)
BACKEND_KINDS = ("local", "remote")
SECRET_POLICIES = ("sealed", "batch")
MAX_REQUEST_SPACING = 5.0  # seconds; more would only slow a station, never protect a unit further
TABLES = (  # the file's top-level tables
    "station",
    "backend",
    "keys",
    "store",
    "firmware",
    "profile",
    "fixture",
    "fixtures",
    "label",
    "reader_profile",
)
ESCROW_FILE_ONLY = (  # SoftHSM2 2.6 has no CKK_EC_MONTGOMERY keys, python-pkcs11 0.10 no such key type
    "the escrow key (X25519) must be a file: key: the supported PKCS#11 stack (SoftHSM2 2.6, "
    "python-pkcs11 0.10) cannot hold or derive with X25519 keys"
)
_FINGERPRINT = re.compile(r"sha256:(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class StationSection:
    id: str
    data_dir: str = "station-data"
    simulated: bool = False
    request_spacing: float | None = None  # seconds between requests to one unit; None: 0.15 (real units)


@dataclass(frozen=True)
class BackendSection:
    kind: str = "local"
    url: str | None = None
    checkin_key: str | None = None  # remote only: base64 X25519 key units trust (for simulated fixtures)
    # remote only: PEM file of the factory CA (relative to this file), for a service without GET /ca
    # (Encedo's has none); checked where the backend is assembled (factory/settingscheck.py)
    ca_certificate: str | None = None


@dataclass(frozen=True)
class KeysSection:
    ca: str = "file:keys/factory-ca.pem"
    signing: str = "file:keys/station-signing.pem"
    checkin: str = "file:keys/checkin.key"
    escrow: str | None = None  # QA/RMA benches: file:...key, the escrow private key opening sealed units
    pin_file: str | None = None
    pin_env: str | None = None  # environment variable holding the token PIN (pkcs11: keys)
    pkcs11_module: str | None = None  # PKCS#11 module path; required when ca or signing is pkcs11:
    release: str | None = None  # `station firmware add`: the firmware release key (Ed25519), file: or pkcs11:


@dataclass(frozen=True)
class StoreSection:
    line: str | None = None


@dataclass(frozen=True)
class FirmwareSection:
    dir: str = "firmware_images"
    require: str | None = None
    release_key: str | None = None  # base64 Ed25519 public key manifest.json.sig must verify with


@dataclass(frozen=True)
class Profile:
    """A personalisation profile: every ``cfg`` field of the init JWT (reference §4.2) plus key policy."""

    user: str = ""
    email: str = ""
    hostname: str = "my.ence.do"
    ip: str = "192.168.7.1/24"
    storage_mode: int = 0x51
    storage_disk0size: int = 8_388_608
    dnsd: bool = False
    trusted_ts: bool = True
    trusted_backend: bool = True
    allow_keysearch: bool = False
    origin: str = "*"
    ctx: int = 0
    gen_csr: bool = False
    secrets: str = "sealed"
    escrow_public_key: str | None = None
    passphrase_file: str | None = None
    passphrase_env: str | None = None
    mnemonic_file: str | None = None
    mnemonic_env: str | None = None


@dataclass(frozen=True)
class FixtureConfig:
    slot: str
    kind: str  # a kind of fixtures/registry.py (checked there, when the station is assembled)
    port: str | None = None
    interface: str | None = None
    url: str | None = None
    controller: str | None = None
    controller_channel: int | None = None  # the slot's number on its fixture controller (PWR/LED <n>)
    family: str = (
        "ppa"  # simulated slots: "ppa" (a simulated PPA) or "reader" (a simulated SpringCard reader)
    )
    # An https:// url is pinned by one of these (fixtures/registry.py refuses it otherwise):
    tls_fingerprint: str | None = None  # "sha256:<64 hex>" of the certificate (openssl x509 -fingerprint)
    tls_ca: str | None = None  # PEM file of a CA that signed it, relative to this file; no host name check
    # companion slots only (their bounds: fixtures/registry.py); None: the defaults of fixtures/companion.py
    reenumeration_grace: float | None = None  # seconds a claimed reader may be missing and keep its slot
    busy_deadline: float | None = None  # seconds of 503 answers one Companion Service call waits out


@dataclass(frozen=True)
class FixturesSection:
    """Station-wide fixture hardware. The PPA's USB ids are not published: configuration, not code."""

    usb_vendor: int | None = None  # e.g. usb_vendor = 0x1234 (lsusb shows it)
    usb_product: int | None = None
    # The bench map of the window: rows x columns of fixtures as they stand on the bench, filled in
    # [[fixture]] order. Left out: from the slot names (A1..A8 a row, B1.. the next), else from the count.
    rows: int | None = None
    columns: int | None = None


@dataclass(frozen=True)
class LabelSection:
    """Unit labels on a ZPL printer (``station/labels/``). No ``[label]`` table: labels are off."""

    printer: str  # "tcp://host:port" (port 9100 when left out)
    template: str | None = None  # relative to this file; None = the shipped station/labels/unit.zpl
    timeout: float = 5.0  # seconds for one label's whole exchange with the printer
    copies: int = 1
    product: str = "Encedo PPA"  # the product line on the label ({product})
    check_status: bool = True  # ask the printer's ~HS status first; print nothing if it is faulted


@dataclass(frozen=True)
class ReaderProfile:
    """How mode ``readers`` configures SpringCard readers (``[reader_profile.<name>]``).

    ``config`` is a CONFIG-DATA JSON file (relative to this file) written to every reader with
    ``specific`` = preserve | discard; then each reader gets its own inventory number (register 0201) and
    ``location`` (0202). ``inventory = "generated"`` makes the number ``inventory_prefix`` + the reader's
    serial number; ``"scanned"`` waits for the operator to scan the label on the reader's housing.
    """

    config: str
    location: str = ""
    inventory: str = "generated"
    inventory_prefix: str = ""
    specific: str = "preserve"


@dataclass(frozen=True)
class StationConfig:
    """The whole file. ``path`` and ``sha256`` identify it in every record (``config_sha256``)."""

    station: StationSection
    backend: BackendSection = field(default_factory=BackendSection)
    keys: KeysSection = field(default_factory=KeysSection)
    store: StoreSection = field(default_factory=StoreSection)
    firmware: FirmwareSection = field(default_factory=FirmwareSection)
    profiles: dict[str, Profile] = field(default_factory=dict)
    fixtures: tuple[FixtureConfig, ...] = ()
    fixture_hardware: FixturesSection = field(default_factory=FixturesSection)  # the [fixtures] table
    label: LabelSection | None = None  # the [label] table; None = labels off
    reader_profiles: dict[str, ReaderProfile] = field(default_factory=dict)  # [reader_profile.<name>]
    path: str = ""
    sha256: str = ""

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file's folder."""
        return Path(self.path).parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


_T = TypeVar("_T")


def load(path: Path | str) -> StationConfig:
    """Read and validate ``path``; raises ConfigError naming the file and key at fault."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file: {exc.strerror}", path=str(path)) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    config = parse(document, source=str(path))
    return StationConfig(**{**config.__dict__, "path": str(path), "sha256": hashlib.sha256(raw).hexdigest()})


def parse(document: dict[str, Any], *, source: str = "<memory>") -> StationConfig:
    """Validate an already-parsed TOML document (used by ``load`` and by tests)."""
    _refuse_unknown(document, set(TABLES), source, prefix="")
    if "station" not in document:
        raise ConfigError("missing required table [station]", path=source, key="station")
    profiles = {
        name: _validate_profile(_build(Profile, table, source, f"profile.{name}"), source, f"profile.{name}")
        for name, table in _table(document, "profile", source).items()
    }
    fixtures = tuple(
        _validate_fixture(_build(FixtureConfig, table, source, f"fixture[{i}]"), source, f"fixture[{i}]")
        for i, table in enumerate(_array(document, "fixture", source))
    )
    config = StationConfig(
        station=_build(StationSection, document["station"], source, "station"),
        backend=_build(BackendSection, _table(document, "backend", source), source, "backend"),
        keys=_build(KeysSection, _table(document, "keys", source), source, "keys"),
        store=_build(StoreSection, _table(document, "store", source), source, "store"),
        firmware=_build(FirmwareSection, _table(document, "firmware", source), source, "firmware"),
        profiles=profiles,
        fixtures=fixtures,
        fixture_hardware=_build(FixturesSection, _table(document, "fixtures", source), source, "fixtures"),
        label=_label_section(document, source),
        reader_profiles={
            name: _reader_profile(table, source, f"reader_profile.{name}")
            for name, table in _table(document, "reader_profile", source).items()
        },
    )
    _validate_station(config, source)
    return config


# --- cross-field rules ------------------------------------------------------------------------------------


def _validate_station(config: StationConfig, source: str) -> None:
    if config.backend.kind not in BACKEND_KINDS:
        raise ConfigError(
            f"unknown backend kind {config.backend.kind!r}; choose one of {', '.join(BACKEND_KINDS)}",
            path=source,
            key="backend.kind",
        )
    _validate_backend(config.backend, source)
    spacing = config.station.request_spacing
    if spacing is not None and not 0 <= spacing <= MAX_REQUEST_SPACING:
        raise ConfigError(
            f"request_spacing is seconds between requests to one unit, 0 to {MAX_REQUEST_SPACING:g} "
            "(default 0.15, the pace the unit's SDKs keep; 0 turns it off)",
            path=source,
            key="station.request_spacing",
        )
    slots = [f.slot for f in config.fixtures]
    duplicates = sorted({s for s in slots if slots.count(s) > 1})
    if duplicates:
        raise ConfigError(
            f"fixture slots must be unique; repeated: {', '.join(duplicates)}",
            path=source,
            key="fixture.slot",
        )
    _validate_usb_ids(config, source)
    _validate_keys(config.keys, source)
    _refuse_simulated_in_production(config, source)


def _validate_backend(backend: BackendSection, source: str) -> None:
    """The section's shape; the URL's form and the CA file's content are checked at start-up."""
    if backend.kind == "remote" and not backend.url:
        raise ConfigError('a remote backend needs url = "https://..."', path=source, key="backend.url")
    if backend.ca_certificate is None:
        return
    if backend.kind != "remote":
        raise ConfigError(
            "ca_certificate is for a remote backend; the local backend makes and keeps its own CA "
            "certificate (beside [keys] ca)",
            path=source,
            key="backend.ca_certificate",
        )
    if not backend.ca_certificate.strip():
        raise ConfigError(
            'must name the factory CA\'s PEM file, e.g. ca_certificate = "factory-ca.pem"',
            path=source,
            key="backend.ca_certificate",
        )


def _refuse_simulated_in_production(config: StationConfig, source: str) -> None:
    """At load, whatever build runs the file: a production station never gets a simulated slot."""
    if not config.station.simulated:
        for i, fixture in enumerate(config.fixtures):
            if fixture.kind == SIMULATED_KIND:
                raise ConfigError(
                    "a production station (station.simulated = false) refuses simulated fixtures",
                    path=source,
                    key=f"fixture[{i}].kind",
                )


def _validate_keys(keys: KeysSection, source: str) -> None:
    """Token keys need a module and a PIN source; the PIN itself never lives in this file."""
    if keys.checkin.startswith("pkcs11:"):
        raise ConfigError("the check-in key (X25519) is a file: key", path=source, key="keys.checkin")
    if keys.escrow is not None and keys.escrow.startswith("pkcs11:"):
        raise ConfigError(ESCROW_FILE_ONLY, path=source, key="keys.escrow")
    if not any(
        uri is not None and uri.startswith("pkcs11:") for uri in (keys.ca, keys.signing, keys.release)
    ):
        return
    if not keys.pkcs11_module:
        raise ConfigError(
            'a pkcs11: key needs pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so" (or your HSM\'s module)',
            path=source,
            key="keys.pkcs11_module",
        )
    if not (keys.pin_file or keys.pin_env):
        raise ConfigError(
            "a pkcs11: key needs pin_file or pin_env (the token PIN; never the PIN itself)",
            path=source,
            key="keys.pin_file",
        )


def _validate_fixture(fixture: FixtureConfig, source: str, key: str) -> FixtureConfig:
    """The shape of one ``[[fixture]]``; what its kind needs is the registry's to check."""
    if fixture.controller_channel is not None and not fixture.controller:
        raise ConfigError(
            'controller_channel needs controller = "serial:///dev/..."',
            path=source,
            key=f"{key}.controller_channel",
        )
    if fixture.tls_fingerprint is not None and not _FINGERPRINT.fullmatch(fixture.tls_fingerprint):
        raise ConfigError(
            'must be "sha256:" and the certificate\'s 64 hex digits (colons between bytes allowed)',
            path=source,
            key=f"{key}.tls_fingerprint",
        )
    if fixture.tls_ca is not None and not fixture.tls_ca.strip():
        raise ConfigError("must name a PEM file", path=source, key=f"{key}.tls_ca")
    if fixture.tls_fingerprint is not None and fixture.tls_ca is not None:
        raise ConfigError(
            "pin the certificate one way: tls_fingerprint or tls_ca, not both",
            path=source,
            key=f"{key}.tls_ca",
        )
    return fixture


def _validate_usb_ids(config: StationConfig, source: str) -> None:
    """The PPA's USB ids are 16-bit (whether a slot needs them is the usbnet kind's rule)."""
    ids = config.fixture_hardware
    for name in ("usb_vendor", "usb_product"):
        value = getattr(ids, name)
        if value is not None and not 0 <= value <= 0xFFFF:
            raise ConfigError(f"{value} is not a 16-bit USB id", path=source, key=f"fixtures.{name}")
    for name in ("rows", "columns"):
        value = getattr(ids, name)
        if value is not None and not 1 <= value <= 64:
            raise ConfigError(f"{name} = {value}: give 1 to 64", path=source, key=f"fixtures.{name}")
    if ids.rows and ids.columns and ids.rows * ids.columns < len(config.fixtures):
        raise ConfigError(
            f"rows x columns = {ids.rows * ids.columns} places for {len(config.fixtures)} fixtures",
            path=source,
            key="fixtures.rows",
        )


def _validate_profile(profile: Profile, source: str, key: str) -> Profile:
    """The key policy's shape; every ``cfg`` value is checked against the unit's own rules when the station
    is assembled (``factory/profilecheck.py``, with ``devices/ppa/cfgspec.py``)."""

    def fail(name: str, message: str) -> ConfigError:
        return ConfigError(message, path=source, key=f"{key}.{name}")

    _validate_key_policy(profile, fail)
    return profile


def _validate_key_policy(profile: Profile, fail: Callable[[str, str], ConfigError]) -> None:
    """Sealed secrets need the escrow key; batch secrets need where the passphrase and mnemonic live."""
    if profile.secrets not in SECRET_POLICIES:
        raise fail(
            "secrets", f"unknown key policy {profile.secrets!r}; choose one of {', '.join(SECRET_POLICIES)}"
        )
    if profile.secrets == "sealed" and not profile.escrow_public_key:
        raise fail("escrow_public_key", "the sealed key policy needs the escrow X25519 public key (base64)")
    if profile.secrets == "batch":
        if not (profile.passphrase_file or profile.passphrase_env):
            raise fail("passphrase_file", "the batch key policy needs passphrase_file or passphrase_env")
        if not (profile.mnemonic_file or profile.mnemonic_env):
            raise fail("mnemonic_file", "the batch key policy needs mnemonic_file or mnemonic_env")


def _reader_profile(table: Any, source: str, key: str) -> ReaderProfile:
    """A reader profile's table; its CONFIG-DATA file is springcore's to check (``load_reader_profiles``)."""
    profile = _build(ReaderProfile, table, source, key)
    for name, value, allowed in (
        ("inventory", profile.inventory, INVENTORY_SOURCES),
        ("specific", profile.specific, ("preserve", "discard")),
    ):
        if value not in allowed:
            choices = ", ".join(allowed)
            raise ConfigError(
                f"{value!r} is not allowed; choose one of {choices}", path=source, key=f"{key}.{name}"
            )
    return profile


def _label_section(document: dict[str, Any], source: str) -> LabelSection | None:
    """The [label] table; its printer address and template are the labels' to check (``LabelService``)."""
    if "label" not in document:
        return None
    label = _build(LabelSection, document["label"], source, "label")
    if not 0 < label.timeout <= 120:
        raise ConfigError(
            "timeout is in seconds, more than 0 and at most 120", path=source, key="label.timeout"
        )
    if not 1 <= label.copies <= 100:
        raise ConfigError("copies must be between 1 and 100", path=source, key="label.copies")
    return label


# --- generic table → dataclass ----------------------------------------------------------------------------


def _table(document: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table", path=source, key=name)
    return value


def _array(document: dict[str, Any], name: str, source: str) -> list[dict[str, Any]]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"[[{name}]] must be an array of tables", path=source, key=name)
    return value


def _refuse_unknown(table: dict[str, Any], known: set[str], source: str, prefix: str) -> None:
    for name in table:
        if name not in known:
            raise ConfigError(
                f"unknown key; allowed: {', '.join(sorted(known))}", path=source, key=f"{prefix}{name}"
            )


def _build(cls: type[_T], table: Any, source: str, prefix: str) -> _T:
    """Build dataclass ``cls`` from a TOML table, checking keys, required fields and types."""
    if not isinstance(table, dict):
        raise ConfigError("must be a table", path=source, key=prefix)
    hints = get_type_hints(cls)
    specs = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    _refuse_unknown(table, set(specs), source, prefix=f"{prefix}.")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        key = f"{prefix}.{name}"
        if name not in table:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise ConfigError("missing required key", path=source, key=key)
            continue
        values[name] = _check_type(table[name], hints[name], source, key)
    return cls(**values)


def _check_type(value: Any, hint: Any, source: str, key: str) -> Any:
    allowed = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    for kind in allowed:
        if kind is type(None):
            continue
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is str and isinstance(value, str):
            return value
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    names = " or ".join(k.__name__ for k in allowed if k is not type(None))
    raise ConfigError(f"expected {names}, got {type(value).__name__} {value!r}", path=source, key=key)
