"""The ``station`` command line (contract: ../shared/DESIGN.md §6).

Example::

    station sim ppa --count 2            # prints one JSON line per simulated unit, serves until Ctrl-C

Each sub-command is a small function; errors the user can fix (bad config, bad fault spec) print one
line naming the problem and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeAlias

from station import __version__
from station.core.config import KeysSection, StationConfig, load
from station.core.errors import StationError
from station.devices.ppa.protocol import b64decode, x25519_public_key
from station.factory.keys.keystore import open_key

if TYPE_CHECKING:
    from station.cli.commands import Locations
    from station.pipeline.modes.rma.wipe import RmaPolicy
    from station.sim.ppa.faults import FaultRule

DEFAULT_CONFIG = "station.toml"
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description="PPA provisioning station")
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    commands = parser.add_subparsers(title="commands")
    _add_simulators(commands)
    _add_production(commands)
    _add_records(commands)
    _add_keys(commands)
    _add_gui(commands)
    _add_access(commands)
    return parser


def _add_simulators(commands: Subparsers) -> None:
    sim = commands.add_parser("sim", help="run device simulators").add_subparsers(title="simulators")
    ppa = sim.add_parser("ppa", help="simulated Encedo PPA units on 127.0.0.1")
    ppa.add_argument("--count", type=int, default=1, help="number of units (default 1)")
    ppa.add_argument("--backend-key", help="base64 X25519 public key of the trusted check-in backend")
    ppa.add_argument("--data", help="station data directory whose check-in key the units trust")
    ppa.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    ppa.add_argument(
        "--timing", default="fast", help="timing profile: fast | realistic, optionally scaled: realistic*0.25"
    )
    ppa.add_argument("--faults", default="", help="fault plan, e.g. 'seed=7; drop p=0.05; 500 times=1'")
    ppa.add_argument("--fwv", help="firmware version string the units report")
    ppa.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    ppa.add_argument("--http-port", type=int, default=0, help="fixed HTTP port (one unit only)")
    ppa.add_argument("--https-port", type=int, default=0, help="fixed HTTPS port (one unit only)")
    ppa.add_argument(
        "--replug-after", type=float, help="swap a personalised unit for a fresh one after S idle s"
    )
    ppa.set_defaults(handler=_sim_ppa)
    _add_companion_simulator(sim)


def _add_companion_simulator(sim: Subparsers) -> None:
    """``station sim companion``: the SpringCard Companion Service simulator (docs/companion.md)."""
    companion = sim.add_parser("companion", help="simulated SpringCard Companion Service on 127.0.0.1")
    companion.add_argument("--readers", type=int, default=1, help="readers plugged in at start (default 1)")
    companion.add_argument(
        "--timing", default="fast", help="timing profile: fast | realistic, optionally scaled: realistic*0.25"
    )
    companion.add_argument("--faults", default="", help="fault plan, e.g. 'seed=7; 500 path=/device/*'")
    companion.add_argument("--port", type=int, default=0, help="fixed port (default: a free one)")
    companion.add_argument("--seed", type=int, help="seed for reader identities and ConfigIds (reproducible)")
    companion.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    companion.set_defaults(handler=_sim_companion)


def _add_production(commands: Subparsers) -> None:
    demo = commands.add_parser("demo", help="run the station on simulated fixtures (headless)")
    demo.add_argument("--fixtures", type=int, default=8, help="number of simulated fixtures (default 8)")
    demo.add_argument("--units", type=int, default=16, help="units to provision (default 16)")
    demo.add_argument(
        "--timing", default="fast", help="simulated unit timing: fast | realistic (or realistic*FACTOR)"
    )
    demo.add_argument("--data", help="data directory (default: a new temporary directory)")
    demo.add_argument(
        "--family",
        default="ppa",
        help="devices in the slots: ppa (default), readers (SpringCard readers) or mixed (half each)",
    )
    demo.set_defaults(handler=_demo)

    _mode_parser(commands, "run", "headless production over the configured fixtures", _run)
    _mode_parser(commands, "qa", "headless QA: re-verify units against their records (writes nothing)", _qa)
    rma = _mode_parser(commands, "rma", "headless RMA: wipe, re-personalise, supersede the old record", _rma)
    rma.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="the customer's passphrase for the returned unit (first line; default: asked on the terminal "
        "for each personalised unit; an empty answer wipes through the backend instead)",
    )
    rma.add_argument(
        "--accept-unknown",
        action="store_true",
        help="handle a unit no record knows (the decision is written into its record)",
    )
    rma.add_argument(
        "--no-backend-wipe", action="store_true", help="never wipe through the backend's check-in action"
    )


def _mode_parser(
    commands: Subparsers, name: str, text: str, handler: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """A headless mode: configuration, data, units, profile, and the operator's login."""
    from station.cli.access import add_login_arguments

    parser: argparse.ArgumentParser = commands.add_parser(name, help=text)
    parser.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"station configuration (default {DEFAULT_CONFIG})"
    )
    parser.add_argument("--units", type=int, help="stop after this many units (default: until Ctrl-C)")
    parser.add_argument("--data", help="data directory (default: data_dir of the configuration)")
    parser.add_argument("--profile", help="personalisation profile (default: 'default' or the only one)")
    add_login_arguments(parser)
    parser.set_defaults(handler=handler)
    return parser


def _add_records(commands: Subparsers) -> None:
    records = commands.add_parser("records", help="verify, export or show manufacturing records")
    records_commands = records.add_subparsers(title="records commands")
    for name, handler, text in (
        ("verify", _records_verify, "check signatures, chains and certificates"),
        ("export", _records_export, "write records as JSONL or CSV to stdout"),
        ("show", _records_show, "show one unit's records"),
    ):
        sub = records_commands.add_parser(name, help=text)
        _store_arguments(sub)
        sub.set_defaults(handler=handler)
        if name == "export":
            sub.add_argument("--format", default="jsonl", help="jsonl | csv")
        if name == "show":
            sub.add_argument("unit", help="device id, genuine id or record id")
    _add_line_records(records_commands)


def _add_line_records(records_commands: Subparsers) -> None:
    """``records migrate`` and ``records sync``: the line database (docs/line-database.md)."""
    migrate = records_commands.add_parser("migrate", help="apply pending schema migrations")
    migrate.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    migrate.add_argument("--store", help="postgresql:// URL or store file (default: [store] line)")
    migrate.add_argument("--grant", metavar="ROLE", help="let ROLE insert and select only (the stations)")
    migrate.set_defaults(handler=_records_migrate)
    sync = records_commands.add_parser("sync", help="push unsent records to the line database")
    sync.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    sync.add_argument("--data", help="station data directory")
    sync.add_argument("--store", help="line database postgresql:// URL (default: [store] line)")
    sync.add_argument("--batch", type=int, default=200, help="records per transaction (default 200)")
    sync.set_defaults(handler=_records_sync)


def _add_keys(commands: Subparsers) -> None:
    keys = commands.add_parser("keys", help="station keys").add_subparsers(title="keys commands")
    keys_export = keys.add_parser("export", help="print the station's record-signing public key (PEM)")
    _store_arguments(keys_export)
    keys_export.add_argument("--pkcs11", metavar="URI", help="print this token key's public key instead")
    keys_export.set_defaults(handler=_keys_export)
    keys_init = keys.add_parser("init", help="create a key pair in a PKCS#11 token (PIN: [keys] pin_*)")
    keys_init.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG})")
    keys_init.add_argument("--data", help="station data directory")
    keys_init.add_argument("--pkcs11", metavar="URI", required=True, help="pkcs11:token=...;object=...")
    keys_init.add_argument("--type", choices=("p256", "ed25519"), help="default: from the URI's [keys] role")
    keys_init.set_defaults(handler=_keys_init)
    ca = commands.add_parser("ca", help="factory CA").add_subparsers(title="ca commands")
    ca_export = ca.add_parser("export", help="print the factory CA certificate (PEM)")
    _store_arguments(ca_export)
    ca_export.set_defaults(handler=_ca_export)

    secrets = commands.add_parser("secrets", help="escrowed unit secrets").add_subparsers(title="secrets")
    secrets_open = secrets.add_parser("open", help="decrypt a record's sealed secrets with the escrow key")
    _store_arguments(secrets_open)
    secrets_open.add_argument("record", help="record id")
    secrets_open.add_argument("--escrow-key", required=True, help="file with the escrow X25519 private key")
    secrets_open.set_defaults(handler=_secrets_open)


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    parser.add_argument("--data", help="station data directory")
    parser.add_argument("--store", help="record store file (default <data>/records.sqlite3)")
    parser.add_argument("--trust", action="append", default=[], help="extra trusted signing key (PEM file)")


def _add_gui(commands: Subparsers) -> None:
    gui = commands.add_parser("gui", help="the operator window (PySide6)")
    gui.add_argument("--config", help=f"station configuration (default {DEFAULT_CONFIG})")
    gui.add_argument("--demo", action="store_true", help="simulated fixtures, realistic timing, fresh units")
    gui.add_argument("--fixtures", type=int, default=8, help="demo fixtures, 1-32 (default 8)")
    gui.add_argument(
        "--timing",
        default="realistic",
        help="simulated unit timing: realistic (default) | fast, optionally scaled: realistic*0.25",
    )
    gui.add_argument("--screenshot", metavar="PNG", help="render offscreen after the first units, save, exit")
    gui.add_argument(
        "--screenshot-view",
        default="window",
        help="what --screenshot shows: window (default), login, records, audit, qa or rma",
    )
    gui.add_argument(
        "--family", default="ppa", help="demo devices: ppa (default), readers (SpringCard) or mixed (half)"
    )
    gui.set_defaults(handler=_gui)


def _gui(args: argparse.Namespace) -> int:
    try:
        from station.gui.app import GuiOptions, main
    except ImportError as exc:  # PySide6 or the Qt runtime libraries are missing
        raise StationError(
            f"the operator window cannot start ({exc}); install it with: pip install 'ppa-station[gui]'"
        ) from None
    from station.sim.ppa.timing import profile

    profile(args.timing)  # a bad name is one line naming the choices, not a dialog box at start-up
    options = GuiOptions(
        config=Path(args.config) if args.config else None,
        demo=args.demo,
        fixtures=args.fixtures,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        timing=args.timing,
        family=args.family,
        view=args.screenshot_view,
    )
    return main(options)


def _sim_ppa(args: argparse.Namespace) -> int:
    from station.sim import refuse_in_production
    from station.sim.ppa.faults import parse_spec
    from station.sim.ppa.fleet import start_fleet, stop_fleet
    from station.sim.ppa.state import DEFAULT_FWV
    from station.sim.ppa.timing import profile

    config = _optional_config(args.config)
    if config is not None:
        refuse_in_production(config.station.simulated, where=config.path)
    if args.count < 1:
        raise StationError("--count must be at least 1")
    if args.count > 1 and (args.http_port or args.https_port):
        raise StationError("fixed ports (--http-port/--https-port) need --count 1")
    units = start_fleet(
        args.count,
        backend_key=_trusted_backend_key(args, config),
        timing=profile(args.timing),
        faults=parse_spec(args.faults),
        host=args.host,
        http_port=args.http_port,
        https_port=args.https_port,
        fwv=args.fwv or DEFAULT_FWV,
        replug_after=args.replug_after,
        on_fault=_report_fault,
    )
    try:
        stop = _termination()
        for unit in units:
            print(json.dumps(unit.describe()), flush=True)
        stop.wait()
    finally:
        stop_fleet(units)
    return 0


def _sim_companion(args: argparse.Namespace) -> int:
    """One JSON line ``{"rest": URL, "readers": [DeviceId, ...]}``, then serve until SIGINT/SIGTERM."""
    from station.sim import refuse_in_production
    from station.sim.companion.service import SimulatedCompanion
    from station.sim.companion.timing import profile
    from station.sim.ppa.faults import parse_spec

    config = _optional_config(args.config)
    if config is not None:
        refuse_in_production(config.station.simulated, where=config.path)
    if args.readers < 0:
        raise StationError("--readers must be 0 or more")
    if not 0 <= args.port <= 65535:
        raise StationError("--port must be 0 (a free port) to 65535")

    def report(rule: FaultRule, method: str, path: str) -> None:
        line = {"fault": rule.kind, "method": method, "path": path}
        print(json.dumps(line), file=sys.stderr, flush=True)

    service = SimulatedCompanion(
        readers=args.readers,
        timing=profile(args.timing),
        faults=parse_spec(args.faults),
        seed=args.seed,
        port=args.port,
        on_fault=report,
    )
    try:
        service.start()
    except OSError as exc:
        raise StationError(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc})") from None
    try:
        stop = _termination()
        print(json.dumps(service.describe()), flush=True)
        stop.wait()
    finally:
        service.stop()
    return 0


def _report_fault(slot: int, rule: FaultRule, method: str, path: str) -> None:
    """Each fault that fires, as one JSON line on stderr: tests and people can see what was injected."""
    line = {"fault": rule.kind, "slot": slot, "method": method, "path": path}
    print(json.dumps(line), file=sys.stderr, flush=True)


def _trusted_backend_key(args: argparse.Namespace, config: StationConfig | None) -> bytes:
    """``--backend-key``, else the check-in key of the local backend in the station's data directory."""
    if args.backend_key:
        try:
            key = b64decode(args.backend_key)
        except StationError:
            key = b""
        if len(key) != 32:
            raise StationError("--backend-key must be a base64 32-byte X25519 public key")
        return key
    keys = config.keys if config is not None else KeysSection()
    return x25519_public_key(open_key(keys.checkin, _data_dir(args, config), setting="keys.checkin").x25519())


def _data_dir(args: argparse.Namespace, config: StationConfig | None) -> Path:
    if args.data:
        return Path(args.data)
    if config is not None:
        return config.resolve(config.station.data_dir)
    return Path("station-data")


def _optional_config(path: str | None) -> StationConfig | None:
    """The named configuration, or ./station.toml when it exists, or None."""
    if path is not None:
        return load(Path(path))
    default = Path(DEFAULT_CONFIG)
    return load(default) if default.exists() else None


def _demo(args: argparse.Namespace) -> int:
    from station.cli import commands

    data = Path(args.data) if args.data else None
    return commands.demo(args.fixtures, args.units, args.timing, data, args.family)


def _run(args: argparse.Namespace) -> int:
    return _run_mode(args, "production")


def _qa(args: argparse.Namespace) -> int:
    return _run_mode(args, "qa")


def _rma(args: argparse.Namespace) -> int:
    from station.cli.commands import rma_policy

    return _run_mode(
        args, "rma", rma=rma_policy(args.passphrase_file, args.accept_unknown, args.no_backend_wipe)
    )


def _run_mode(args: argparse.Namespace, mode: str, rma: RmaPolicy | None = None) -> int:
    """``station run`` / ``qa`` / ``rma``: log in (when the station has accounts), then run ``mode``."""
    from station.cli.access import operator_for_mode
    from station.cli import commands

    config = load(Path(args.config))
    data = Path(args.data) if args.data else config.resolve(config.station.data_dir)
    operator = operator_for_mode(args, config, data, mode)
    return commands.run(config, args.units, data, args.profile, mode=mode, operator=operator, rma=rma)


def _records_verify(args: argparse.Namespace) -> int:
    from station.cli import commands

    if _is_line_url(args.store):
        return _line_records("verify", args)
    return commands.records_verify(_locate(args))


def _records_export(args: argparse.Namespace) -> int:
    from station.cli import commands

    if _is_line_url(args.store):
        return _line_records("export", args)
    return commands.records_export(_locate(args), args.format)


def _records_show(args: argparse.Namespace) -> int:
    from station.cli import commands

    if _is_line_url(args.store):
        return _line_records("show", args)
    return commands.records_show(_locate(args), args.unit)


def _is_line_url(store: str | None) -> bool:
    return store is not None and store.startswith(("postgresql://", "postgres://"))


def _line_target(args: argparse.Namespace, config: StationConfig | None) -> str:
    target: str | None = args.store or (config.store.line if config is not None else None)
    if not target:
        raise StationError("no line database: give --store postgresql://... or [store] line in station.toml")
    return target


def _line_records(verb: str, args: argparse.Namespace) -> int:
    from station.cli import line as linecommands

    trust = linecommands.load_trusted([Path(path) for path in args.trust])
    if verb == "verify":
        return linecommands.cmd_line_verify(args.store, trust)
    if verb == "export":
        return linecommands.cmd_line_export(args.store, args.format)
    return linecommands.cmd_line_show(args.store, args.unit, trust)


def _records_migrate(args: argparse.Namespace) -> int:
    from station.cli.line import cmd_migrate

    return cmd_migrate(_line_target(args, _optional_config(args.config)), grant=args.grant)


def _records_sync(args: argparse.Namespace) -> int:
    from station.cli.commands import Locations
    from station.cli.line import cmd_sync

    config = _optional_config(args.config)
    keys = config.keys if config is not None else KeysSection()
    where = Locations(_data_dir(args, config), None, keys, [])
    url = _line_target(args, config)
    return cmd_sync(where.store_path, url, where.signing_public_key(), batch=args.batch)


def _keys_export(args: argparse.Namespace) -> int:
    from station.cli import commands

    return commands.keys_export(_locate(args), args.pkcs11)


def _keys_init(args: argparse.Namespace) -> int:
    from station.cli import commands

    config = _optional_config(args.config)
    if config is None:
        raise StationError(f"keys init needs a station configuration (--config or ./{DEFAULT_CONFIG})")
    return commands.keys_init(config, args.pkcs11, args.type, Path(args.data) if args.data else None)


def _ca_export(args: argparse.Namespace) -> int:
    from station.cli import commands

    return commands.ca_export(_locate(args))


def _secrets_open(args: argparse.Namespace) -> int:
    from station.cli import commands

    return commands.secrets_open(_locate(args), args.record, Path(args.escrow_key))


def _locate(args: argparse.Namespace) -> Locations:
    from station.cli.commands import Locations

    config = _optional_config(args.config)
    data = _data_dir(args, config)
    keys = config.keys if config is not None else KeysSection()
    return Locations(data, Path(args.store) if args.store else None, keys, [Path(p) for p in args.trust])


def _add_access(commands: Subparsers) -> None:
    """``station users ...`` and ``station audit ...`` (station/accesscommands.py)."""
    from station.cli.access import add_access_commands

    add_access_commands(commands, _store_arguments, _access)


def _access(args: argparse.Namespace) -> int:
    command: Callable[[argparse.Namespace, Locations], int] = args.access_command
    return command(args, _locate(args))


def _termination() -> threading.Event:
    """An event SIGINT or SIGTERM sets; installed before a simulator announces itself, so a signal sent
    as soon as its line is read stops it cleanly instead of killing it."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


if __name__ == "__main__":
    sys.exit(main())
