"""One check's result and the machine the checks look at (real roots, or temporary ones in tests).

>>> Check("printer", False, "192.0.2.9:9100 is out of paper", "Load paper and close the head.").symbol
'✖'
>>> passed([Check("config", True, "station.toml loads"), Check("clock", None, "no way to ask")])
False
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from station.app.doctor.probes import interface_ipv4, ntp_synchronised

SYMBOLS = {True: "✔", False: "✖", None: "?"}


@dataclass(frozen=True)
class Check:
    """``ok``: True passed, False failed, None could not be told (counts as not passed); ``fix`` is one
    sentence saying what to do, given whenever ``ok`` is not True."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.ok]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(checks: Iterable[Check]) -> bool:
    """Every check passed (an unknown result is not a pass)."""
    return all(check.ok is True for check in checks)


@dataclass(frozen=True)
class Environment:
    """Where the checks read the PC: filesystem roots and the two facts no file holds.

    Tests point the roots at temporary folders and replace ``ipv4`` and ``clock``.
    """

    sys_root: Path = Path("/sys")
    proc_root: Path = Path("/proc")
    etc_root: Path = Path("/etc")
    run_root: Path = Path("/run")
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    ipv4: Callable[[str], list[str]] = interface_ipv4  # an interface's IPv4 addresses
    clock: Callable[[], tuple[bool | None, str]] = ntp_synchronised
    timeout: float = 5.0  # seconds for each network check
