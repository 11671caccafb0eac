"""Secret files (keys, token PINs, batch secrets) are for their owner only; the error says the fix.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile() as handle:
...     Path(handle.name).chmod(0o640)
...     refuse_shared(Path(handle.name), "key file", key="keys.ca")
Traceback (most recent call last):
station.core.errors.ConfigError: /...: [keys.ca] key file is readable by others (mode 640); run chmod 600 /...
"""

from __future__ import annotations

from pathlib import Path

from station.core.privatefiles import SHARED_BITS, refuse_shared_files

__all__ = ["SHARED_BITS", "refuse_shared"]


def refuse_shared(path: Path, what: str, *, key: str | None = None) -> None:
    """ConfigError if group or others may access ``path``; a missing file is left to whoever reads it.

    The rule every data file of the station follows (``core/privatefiles.py``), for the secret files.
    """
    refuse_shared_files([path], what, key=key)
