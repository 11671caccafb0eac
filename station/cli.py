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

from station import __version__
from station.config import StationConfig, load
from station.errors import StationError
from station.factory.keystore import FileKeyStore
from station.ppa.protocol import b64decode, x25519_public_key

DEFAULT_CONFIG = "station.toml"


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

    sim = commands.add_parser("sim", help="run device simulators").add_subparsers(title="simulators")
    ppa = sim.add_parser("ppa", help="simulated Encedo PPA units on 127.0.0.1")
    ppa.add_argument("--count", type=int, default=1, help="number of units (default 1)")
    ppa.add_argument("--backend-key", help="base64 X25519 public key of the trusted check-in backend")
    ppa.add_argument("--data", help="station data directory whose check-in key the units trust")
    ppa.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")
    ppa.add_argument("--timing", default="fast", help="timing profile: fast | realistic")
    ppa.add_argument("--faults", default="", help="fault plan, e.g. 'seed=7; drop p=0.05; 500 times=1'")
    ppa.add_argument("--fwv", help="firmware version string the units report")
    ppa.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    ppa.add_argument("--http-port", type=int, default=0, help="fixed HTTP port (one unit only)")
    ppa.add_argument("--https-port", type=int, default=0, help="fixed HTTPS port (one unit only)")
    ppa.set_defaults(handler=_sim_ppa)
    return parser


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
    )
    try:
        for unit in units:
            print(json.dumps(unit.describe()), flush=True)
        _wait_for_termination()
    finally:
        stop_fleet(units)
    return 0


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
    return x25519_public_key(FileKeyStore(_data_dir(args, config) / "keys").x25519("checkin"))


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


def _wait_for_termination() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
