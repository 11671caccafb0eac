"""The ``station`` command line (contract: docs/cli.md): one module per verb family.

>>> import contextlib, sys
>>> with contextlib.redirect_stderr(sys.stdout):          # a mistake the user can fix: one line, exit 2
...     main(["records", "verify", "--config", "no-such.toml"])
station: no-such.toml: configuration file not found
2
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from station import __version__
from station.cli import audit, doctor, gui, keys, line, records, run, sim, users
from station.core.errors import StationError
from station.core.privatefiles import private_umask
from station.core.text import EscapingFormatter, printable

# in the order `station --help` lists them
VERB_MODULES = (sim, run, records, line, keys, gui, users, audit, doctor)


def main(argv: Sequence[str] | None = None) -> int:
    log_warnings_to_stderr()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        with private_umask():  # every file a command makes is its user's only (data, logs, keys, exports)
            return handler(args)
    except StationError as exc:
        print(f"station: {printable(exc)}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description="PPA provisioning station")
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    commands = parser.add_subparsers(title="commands")
    for family in VERB_MODULES:
        family.add_parser(commands)
    return parser


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes (as logging's last resort does)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def log_warnings_to_stderr() -> None:
    """Warnings and errors of the ``station`` loggers to stderr, escaped (``EscapingFormatter``): a log
    message may carry a unit's text. Without it they reach stderr raw, through logging's last resort.
    Installed once per process."""
    logger = logging.getLogger("station")
    if any(isinstance(handler, _CurrentStderr) for handler in logger.handlers):
        return
    handler = _CurrentStderr()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(EscapingFormatter("%(message)s"))
    logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
