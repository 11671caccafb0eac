"""The ``station`` command line (contract: docs/cli.md): one module per verb family.

Example::

    station sim ppa --count 2            # prints one JSON line per simulated unit, serves until Ctrl-C
    station records verify --data station-data
    python -m station.cli --help         # the same as the ``station`` console script

Each family module (``sim``, ``run``, ``records`` with ``line``, ``keys``, ``gui``, ``users``, ``audit``)
adds its parsers with ``add_parser`` and sets the handler of each verb beside what the verb does. Errors
the user can fix (bad config, bad fault spec) print one line naming the problem and exit 2, never a
traceback. Family modules import their heavy dependencies inside the handlers, so ``station --help``
stays fast.
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
