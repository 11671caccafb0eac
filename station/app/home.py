"""Whether a command's data is a production station's own: accounts must not follow ``--data`` (cli/login.py).

>>> from station.core.config import parse
>>> production = parse({"station": {"id": "st01", "data_dir": "/srv/st01"}})
>>> production_home(production, Path("/srv/st01"), None), production_home(production, Path("/fresh"), None)
(None, PosixPath('/srv/st01'))
"""

from __future__ import annotations

from pathlib import Path

from station.core.config import StationConfig


def production_home(config: StationConfig | None, data_dir: Path, store: Path | None) -> Path | None:
    """The configured data directory of a production station when ``data_dir`` or ``store`` is not it;
    None for the station's own data, a development station, or no configuration (no station to guard).

    Paths are compared resolved (symbolic links, ``..``), so another spelling of home is home.
    """
    from station.records.store.sqlite import DEFAULT_FILENAME

    if config is None or config.station.simulated:
        return None
    home = config.resolve(config.station.data_dir)
    if _same(data_dir, home) and (store is None or _same(store, home / DEFAULT_FILENAME)):
        return None
    return home


def _same(one: Path, other: Path) -> bool:
    return one.resolve() == other.resolve()
