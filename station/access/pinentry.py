"""Reading a PIN from a file or from the terminal: what the command line does before a login.

Example::

    pin = read_pin_file(Path("admin.pin"))          # first line; the file must be chmod 600
    pin = ask_pin("PIN for A0001: ", getpass.getpass)
    new = ask_new_pin("B0042", getpass.getpass)     # typed twice; AccessError if the two differ

A PIN is never a command-line argument (shell history, ``ps``). A PIN file readable by group or others
is refused, as ``[keys] pin_file`` is for token PINs. ``read_pin`` is injectable so tests can play the
terminal; the real one is ``getpass.getpass``, which reads the controlling terminal without echo.
Errors name the file and the rule, never the PIN.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

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
        raise AccessError(f"PIN file {path} is readable by others (mode {mode:o}); run chmod 600")
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
