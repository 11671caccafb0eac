"""``station gui``: the operator window (PySide6), or a screenshot of it for the documentation.

>>> import argparse; commands = argparse.ArgumentParser(prog="station").add_subparsers(); add_parser(commands)
>>> args = commands.choices["gui"].parse_args(["--demo", "--fixtures", "4", "--family", "mixed"])
>>> args.demo, args.fixtures, args.family, args.screenshot_view             # Qt is imported by the handler
(True, 4, 'mixed', 'window')
"""

from __future__ import annotations

import argparse
from pathlib import Path

from station.cli.options import DEFAULT_CONFIG, Subparsers
from station.core.errors import StationError


def add_parser(commands: Subparsers) -> None:
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
