"""The ``station`` command line (contract: docs/cli.md): one module per verb family.

>>> import contextlib, sys
>>> with contextlib.redirect_stderr(sys.stdout):          # a mistake the user can fix: one line, exit 2
...     main(["records", "verify", "--config", "no-such.toml"])
station: no-such.toml: configuration file not found
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from station import __version__
from station.cli import audit, gui, keys, records, run, sim, users
from station.core.errors import StationError

VERB_MODULES = (sim, run, records, keys, gui, users, audit)  # in the order `station --help` lists them


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description="PPA provisioning station")
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    commands = parser.add_subparsers(title="commands")
    for family in VERB_MODULES:
        family.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
