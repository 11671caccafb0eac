"""Secret files (keys, token PINs, batch secrets) are for their owner only; the error says the fix.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile() as handle:
...     Path(handle.name).chmod(0o640)
...     refuse_shared(Path(handle.name), "key file", key="keys.ca")
Traceback (most recent call last):
station.core.errors.ConfigError: /...: [keys.ca] key file is readable by others (mode 640); run chmod 600 /...
"""

from __future__ import annotations

import stat
from pathlib import Path

from station.core.errors import ConfigError

SHARED_BITS = 0o077  # any access by group or others


def refuse_shared(path: Path, what: str, *, key: str | None = None) -> None:
    """ConfigError if group or others may access ``path``; a missing file is left to whoever reads it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror}", path=str(path), key=key) from None
    if mode & SHARED_BITS:
        raise ConfigError(
            f"{what} is readable by others (mode {mode:o}); run chmod 600 {path}", path=str(path), key=key
        )
