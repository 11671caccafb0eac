"""``station sim ppa|companion``: device simulators on 127.0.0.1, serving until SIGINT/SIGTERM.

>>> import argparse, tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     _ = Path(folder, "station.toml").write_text('station = {id = "st01"}')      # simulated = false
...     sim_ppa(argparse.Namespace(config=f"{folder}/station.toml"))
Traceback (most recent call last):
station.core.errors.ConfigError: ...: [station.simulated] simulators cannot run in a production ...
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from station.cli.options import Subparsers, config_argument, optional_config
from station.core.errors import StationError

if TYPE_CHECKING:
    from station.core.config import StationConfig
    from station.sim.ppa.faults import FaultRule

TIMING_HELP = "timing profile: fast | realistic, optionally scaled: realistic*0.25"


def add_parser(commands: Subparsers) -> None:
    sim = commands.add_parser("sim", help="run device simulators").add_subparsers(title="simulators")
    ppa = sim.add_parser("ppa", help="simulated Encedo PPA units on 127.0.0.1")
    ppa.add_argument("--count", type=int, default=1, help="number of units (default 1)")
    ppa.add_argument("--backend-key", help="base64 X25519 public key of the trusted check-in backend")
    ppa.add_argument("--data", help="station data directory whose check-in key the units trust")
    config_argument(ppa)
    ppa.add_argument("--timing", default="fast", help=TIMING_HELP)
    ppa.add_argument("--faults", default="", help="fault plan, e.g. 'seed=7; drop p=0.05; 500 times=1'")
    ppa.add_argument("--fwv", help="firmware version string the units report")
    ppa.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="SHA256=FWV",
        help="the units accept a firmware image of this SHA-256 (as Encedo-signed), installing FWV",
    )
    ppa.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    ppa.add_argument("--http-port", type=int, default=0, help="fixed HTTP port (one unit only)")
    ppa.add_argument("--https-port", type=int, default=0, help="fixed HTTPS port (one unit only)")
    ppa.add_argument(
        "--replug-after", type=float, help="swap a personalised unit for a fresh one after S idle s"
    )
    ppa.add_argument(
        "--link",
        metavar="INTERFACE",
        help="one unit only: take this network interface down while the unit is gone after a restart and "
        "up at its new boot, as a USB unit's vanishes (in a network namespace of a test; needs ip)",
    )
    ppa.set_defaults(handler=sim_ppa)

    companion = sim.add_parser("companion", help="simulated SpringCard Companion Service on 127.0.0.1")
    companion.add_argument("--readers", type=int, default=1, help="readers plugged in at start (default 1)")
    companion.add_argument("--timing", default="fast", help=TIMING_HELP)
    companion.add_argument("--faults", default="", help="fault plan, e.g. 'seed=7; 500 path=/device/*'")
    companion.add_argument("--port", type=int, default=0, help="fixed port (default: a free one)")
    companion.add_argument("--seed", type=int, help="seed for reader identities and ConfigIds (reproducible)")
    config_argument(companion)
    companion.set_defaults(handler=sim_companion)


def _development_config(args: argparse.Namespace) -> StationConfig | None:
    """``--config`` (or ./station.toml) if there is one; a production configuration refuses simulators."""
    from station.sim import refuse_in_production

    config = optional_config(args.config)
    if config is not None:
        refuse_in_production(config.station.simulated, where=config.path)
    return config


def sim_ppa(args: argparse.Namespace) -> int:
    """One JSON line per simulated unit (its ports and identity), then serve until SIGINT/SIGTERM."""
    from station.sim.ppa.faults import parse_spec
    from station.sim.ppa.fleet import start_fleet, stop_fleet
    from station.sim.ppa.state import DEFAULT_FWV
    from station.sim.ppa.timing import profile

    config = _development_config(args)
    if args.count < 1:
        raise StationError("--count must be at least 1")
    if args.count > 1 and (args.http_port or args.https_port or args.link):
        raise StationError("fixed ports (--http-port/--https-port) and --link need --count 1")
    _accept_images(args.accept)
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
        on_presence=_link_follower(args.link) if args.link else None,
    )
    try:
        stop = _termination()
        for unit in units:
            print(json.dumps(unit.describe()), flush=True)
        stop.wait()
    finally:
        stop_fleet(units)
    return 0


def _accept_images(accepted: list[str]) -> None:
    """``--accept SHA256=FWV``: images the simulator's list (``sim/ppa/images.py``) takes as signed."""
    from station.sim.ppa.images import encedo_signs_hash

    for item in accepted:
        digest, _, fwv = item.partition("=")
        if not fwv.strip():
            raise StationError(f"--accept {item!r}: no firmware version; expected SHA256=FWV")
        try:
            encedo_signs_hash(digest.strip(), fwv.strip())
        except ValueError as exc:
            raise StationError(f"--accept {item!r}: {exc}; expected SHA256=FWV") from None


def sim_companion(args: argparse.Namespace) -> int:
    """One JSON line ``{"rest": URL, "readers": [DeviceId, ...]}``, then serve until SIGINT/SIGTERM."""
    from station.sim.companion.service import SimulatedCompanion
    from station.sim.companion.timing import profile
    from station.sim.ppa.faults import parse_spec

    _development_config(args)  # refuses inside a production configuration
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


def _link_follower(interface: str) -> Callable[[int, bool], None]:
    """Sets ``interface`` down while the unit is gone and up when it answers; one JSON line on stdout each
    time (``{"slot": 0, "link": "down"}``), so a test sees that the link went and came back."""

    def follow(slot: int, answering: bool) -> None:
        state = "up" if answering else "down"
        command = ["ip", "link", "set", interface, state]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
        line: dict[str, object] = {"slot": slot, "link": state}
        if done.returncode != 0:
            line["error"] = done.stderr.strip()
        print(json.dumps(line), flush=True)

    return follow


def _report_fault(slot: int, rule: FaultRule, method: str, path: str) -> None:
    """Each fault that fires, as one JSON line on stderr: tests and people can see what was injected."""
    line = {"fault": rule.kind, "slot": slot, "method": method, "path": path}
    print(json.dumps(line), file=sys.stderr, flush=True)


def _trusted_backend_key(args: argparse.Namespace, config: StationConfig | None) -> bytes:
    """``--backend-key``, else the check-in key of the local backend in the station's data directory."""
    from station.app.data import StationData
    from station.core.codec import b64decode, x25519_public_key

    if args.backend_key:
        try:
            key = b64decode(args.backend_key)
        except StationError:
            key = b""
        if len(key) != 32:
            raise StationError("--backend-key must be a base64 32-byte X25519 public key")
        return key
    data = StationData.open(config, data_dir=Path(args.data) if args.data else None)
    return x25519_public_key(data.checkin_key().x25519())


def _termination() -> threading.Event:
    """An event SIGINT or SIGTERM sets; installed before a simulator announces itself, so a signal sent
    as soon as its line is read stops it cleanly instead of killing it."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop
