"""Reading a PIN from a chmod-600 file or from the terminal, never from the command line (shell history).

>>> typed = iter(["905172", "905173"])                  # the real reader is getpass.getpass
>>> ask_new_pin("B0042", lambda prompt: next(typed))
Traceback (most recent call last):
station.core.errors.AccessError: the two PINs differ; nothing was changed
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from shlex import quote

from station.access.pins import Pin
from station.core.errors import AccessError

PinReader = Callable[[str], str]


def read_pin_file(path: Path) -> Pin:
    """The first line of ``path`` as a PIN; the file must be readable by its owner only."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise AccessError(f"cannot read the PIN file {path}: {reason}") from None
    if mode & 0o077:
        raise AccessError(
            f"PIN file {path} is readable by others (mode {mode:o}); run chmod 600 {quote(str(path))}"
        )
    if not lines or not lines[0].strip():
        raise AccessError(f"PIN file {path} is empty")
    try:
        return Pin(lines[0].strip())
    except AccessError as exc:
        raise AccessError(f"PIN file {path}: {exc}") from None


def ask_pin(prompt: str, read_pin: PinReader) -> Pin:
    """One PIN from the terminal, without echo."""
    try:
        return Pin(read_pin(prompt).strip())
    except (EOFError, KeyboardInterrupt):
        raise AccessError("no PIN entered") from None


def ask_new_pin(badge: str, read_pin: PinReader) -> Pin:
    """A new PIN for ``badge``, typed twice; the rules are checked by the user store."""
    first = ask_pin(f"new PIN for {badge}: ", read_pin)
    second = ask_pin(f"new PIN for {badge} again: ", read_pin)
    if first.encode() != second.encode():
        raise AccessError("the two PINs differ; nothing was changed")
    return first
