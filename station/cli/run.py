"""``station demo|run|qa|rma``: the station headless, one progress line per unit and a summary at the end.

>>> import argparse; commands = argparse.ArgumentParser(prog="station").add_subparsers(); add_parser(commands)
>>> args = commands.choices["qa"].parse_args(["--units", "4", "--operator", "Q0007"])
>>> args.config, args.units, args.operator, args.handler.__name__        # exit 0 only if every unit passed
('station.toml', 4, 'Q0007', '_qa')
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from station.cli.login import add_login_arguments
from station.cli.options import DEFAULT_CONFIG, Subparsers
from station.core.config import StationConfig, load
from station.core.errors import ConfigError

if TYPE_CHECKING:
    from station.app.station import Station
    from station.core.operator import Operator
    from station.pipeline.modes.rma.wipe import RmaPolicy
    from station.pipeline.tally import VerdictTally


def add_parser(commands: Subparsers) -> None:
    demo_parser = commands.add_parser("demo", help="run the station on simulated fixtures (headless)")
    demo_parser.add_argument(
        "--fixtures", type=int, default=8, help="number of simulated fixtures (default 8)"
    )
    demo_parser.add_argument("--units", type=int, default=16, help="units to provision (default 16)")
    demo_parser.add_argument(
        "--timing", default="fast", help="simulated unit timing: fast | realistic (or realistic*FACTOR)"
    )
    demo_parser.add_argument("--data", help="data directory (default: a new temporary directory)")
    demo_parser.add_argument(
        "--family",
        default="ppa",
        help="devices in the slots: ppa (default), readers (SpringCard readers) or mixed (half each)",
    )
    demo_parser.set_defaults(handler=_demo)

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


def _demo(args: argparse.Namespace) -> int:
    return demo(args.fixtures, args.units, args.timing, Path(args.data) if args.data else None, args.family)


def _run(args: argparse.Namespace) -> int:
    return _run_mode(args, "production")


def _qa(args: argparse.Namespace) -> int:
    return _run_mode(args, "qa")


def _rma(args: argparse.Namespace) -> int:
    from station.cli.passphrase import rma_policy

    policy = rma_policy(args.passphrase_file, args.accept_unknown, args.no_backend_wipe)
    return _run_mode(args, "rma", rma=policy)


def _run_mode(args: argparse.Namespace, mode: str, rma: RmaPolicy | None = None) -> int:
    """``station run`` / ``qa`` / ``rma``: log in (when the station has accounts), then run ``mode``."""
    from station.cli.login import operator_for_mode
    from station.sim import install_for

    config = load(Path(args.config))
    install_for(config)  # simulation entry point: a development configuration's simulated fixtures
    data = Path(args.data) if args.data else config.resolve(config.station.data_dir)
    operator = operator_for_mode(args, config, data, mode)
    return run(config, args.units, data, args.profile, mode=mode, operator=operator, rma=rma)


def demo(fixtures: int, units: int, timing: str, data_dir: Path | None, family: str = "ppa") -> int:
    """Run ``units`` simulated units over ``fixtures`` slots; 0 only if all pass and all records verify."""
    from station.app.data import StationData
    from station.app.demo import DEMO_FAMILIES, demo_config, escrow_key_path
    from station.app.station import Station
    from station.cli.console import summarize
    from station.cli.records import cmd_verify
    from station.core.events import Outcome
    from station.sim import install

    install()  # simulation entry point: the demo runs on the ``simulated`` fixture kind

    if fixtures < 1 or units < 1:
        raise ConfigError("--fixtures and --units must be at least 1")
    if family not in DEMO_FAMILIES:
        raise ConfigError(f"unknown --family {family!r}; choose one of {', '.join(DEMO_FAMILIES)}")
    data = data_dir or Path(tempfile.mkdtemp(prefix="station-demo-"))
    config = demo_config(data, fixtures=fixtures, family=family)
    print(
        f"demo station {config.station.id}: {fixtures} simulated fixtures ({family}), {units} units, "
        f"{timing} timing"
    )
    print(f"data directory: {data}")
    station = Station.open(config, data_dir=data, timing=timing)
    tally, elapsed = _run_station(station, units)
    print(summarize(tally, elapsed))
    written = StationData.open(config, data_dir=data)
    verified = cmd_verify(written.store_path, written.trusted_keys(), written.ca_certificate())
    print(
        f"records: station records show --data {data} <device id>; escrow key (DEMO ONLY): "
        f"{escrow_key_path(data)}"
    )
    all_passed = tally.total == units == tally.counts[Outcome.PASS]
    return 0 if all_passed and verified == 0 else 1


def run(
    config: StationConfig,
    units: int | None,
    data_dir: Path | None,
    profile: str | None,
    *,
    mode: str = "production",
    operator: Operator | None = None,
    rma: RmaPolicy | None = None,
) -> int:
    """Headless ``mode`` until ``units`` verdicts or SIGINT/SIGTERM; resumes interrupted production runs."""
    from station.app.station import Station
    from station.cli.console import summarize
    from station.core.events import Outcome

    station = Station.open(config, data_dir=data_dir, profile=profile, mode=mode, operator=operator, rma=rma)
    tally, elapsed = _run_station(station, units)
    print(summarize(tally, elapsed))
    return 0 if tally.counts[Outcome.PASS] == tally.total and not tally.left_open else 1


def _run_station(station: Station, units: int | None) -> tuple[VerdictTally, float]:
    from station.cli.console import ProgressPrinter

    station.bus.subscribe(ProgressPrinter(sys.stdout))
    started = time.monotonic()
    try:
        with _stop_on_signals(station):
            station.run(units=units)
    finally:
        station.close()
    assert station.tally is not None  # run() made it
    return station.tally, time.monotonic() - started


@contextmanager
def _stop_on_signals(station: Station) -> Iterator[None]:
    """The first SIGINT/SIGTERM stops the station now (``Station.stop``); a second one exits at once.

    The stop runs in its own thread: a signal handler must not wait for locks the interrupted code may
    hold. A run interrupted after writing to its unit stays open and the next start resolves it, so
    exiting at once on the second signal loses nothing the journal does not already hold.
    """
    signals: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        if len(signals) > 1:
            print("stopping at once", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(128 + signum)
        print(
            "stopping: open requests are cut, interrupted runs stay open for the next start "
            "(signal again to exit at once)...",
            file=sys.stderr,
            flush=True,
        )
        threading.Thread(target=station.stop, name="station-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
