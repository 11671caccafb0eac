"""What several verb families share: the configuration and data-directory options, and how they resolve.

>>> import argparse; parser = argparse.ArgumentParser(prog="station records verify"); store_arguments(parser)
>>> vars(parser.parse_args(["--data", "station-data", "--trust", "st02.pem"]))   # station_data(args) opens it
{'config': None, 'data': 'station-data', 'store': None, 'trust': ['st02.pem']}
>>> optional_config("no-such.toml")        # a named file must exist; without a name: ./station.toml or None
Traceback (most recent call last):
station.core.errors.ConfigError: no-such.toml: configuration file not found
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from station.core.config import StationConfig, load

if TYPE_CHECKING:
    from station.app.data import StationData

DEFAULT_CONFIG = "station.toml"
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config``, optional: ./station.toml is read when it exists."""
    parser.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG} if present)")


def store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config --data --store --trust``: which station's data a reading or managing verb works on."""
    config_argument(parser)
    parser.add_argument("--data", help="station data directory")
    parser.add_argument("--store", help="record store file (default <data>/records.sqlite3)")
    parser.add_argument("--trust", action="append", default=[], help="extra trusted signing key (PEM file)")


def optional_config(path: str | None) -> StationConfig | None:
    """The named configuration, or ./station.toml when it exists, or None."""
    if path is not None:
        return load(Path(path))
    default = Path(DEFAULT_CONFIG)
    return load(default) if default.exists() else None


def station_data(args: argparse.Namespace, *, create: bool = False) -> StationData:
    """The station data the ``store_arguments`` of a verb name; ``create``: its store may be new."""
    from station.app.data import StationData

    return StationData.open(
        optional_config(args.config),
        data_dir=Path(args.data) if args.data else None,
        store=Path(args.store) if args.store else None,
        trust=[Path(path) for path in args.trust],
        create=create,
    )
