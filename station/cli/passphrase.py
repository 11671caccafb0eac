"""``station rma``: where the customer's passphrase of a returned unit comes from, and the RMA choices.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile("w") as file:          # mode 600: a secret only its owner reads
...     _ = file.write("ABCD-EFGH"); file.flush()
...     policy = rma_policy(file.name, accept_unknown=False, no_backend_wipe=False)
>>> policy.customer_passphrase(None), policy.unknown_unit    # without a file: asked on the terminal
('ABCD-EFGH', 'refuse')
"""

from __future__ import annotations

import getpass
import stat
import threading
from pathlib import Path
from shlex import quote

from station.core.errors import ConfigError
from station.pipeline.modes.rma.wipe import AskPassphrase, ReturnedUnit, RmaPolicy


def rma_policy(passphrase_file: str | None, accept_unknown: bool, no_backend_wipe: bool) -> RmaPolicy:
    """The RMA choices of ``station rma``: where the customer's passphrase comes from, unknown units, wipe."""
    if passphrase_file is not None:
        ask: AskPassphrase = FilePassphrase(_first_line(Path(passphrase_file)))
    else:
        ask = TerminalPassphrase()
    return RmaPolicy(
        unknown_unit="accept" if accept_unknown else "refuse",
        customer_passphrase=ask,
        backend_wipe=not no_backend_wipe,
    )


class FilePassphrase:
    """The one customer passphrase ``--passphrase-file`` gave, for the returned unit(s) of this run."""

    def __init__(self, passphrase: str) -> None:
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return "FilePassphrase(***)"

    def __call__(self, unit: ReturnedUnit) -> str | None:
        return self._passphrase


class TerminalPassphrase:
    """Asks the bench operator for each returned unit's passphrase (one question at a time, never echoed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, unit: ReturnedUnit) -> str | None:
        with self._lock:
            prompt = (
                f"slot {unit.slot}: customer passphrase for unit {unit.eid} ({unit.label!r}); "
                "empty = wipe through the backend: "
            )
            return getpass.getpass(prompt) or None


def _first_line(path: Path) -> str:
    """The passphrase in ``path``: a secret, so the file must be readable by its owner only."""
    try:
        text, mode = path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read the passphrase file: {reason}", path=str(path)) from None
    if mode & 0o077:
        raise ConfigError(
            f"the passphrase file is readable by others (mode {mode:o}); run chmod 600 {quote(str(path))}",
            path=str(path),
        )
    line = text.splitlines()[0] if text.strip() else ""
    if not line:
        raise ConfigError("the passphrase file is empty", path=str(path))
    return line
