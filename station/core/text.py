r"""Outside text made safe to print on a terminal, in a log or in the window: escaped, bounded, one line.

>>> printable("PPA rev 2.2\x1b[31m\n  N1  PASS")          # no escape code runs, no line is faked
'PPA rev 2.2\\x1b[31m\\n  N1  PASS'
>>> printable("x" * 300, limit=10)
'xxxxxxx...'
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType
from typing import TypeAlias

LIMIT = 400  # characters of one printed value or line, by default
LOG_LIMIT = 4000  # characters of one log message
ELLIPSIS = "..."  # ASCII: a terminal in any encoding can print it
_PLAIN = re.compile(r"[\x20-\x7e]*")  # printable ASCII: the common case, returned as it is
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


def printable(text: object, limit: int = LIMIT) -> str:
    r"""``str(text)`` with every unprintable character escaped as Python writes it (``\n``, ``\x1b``,
    ``\u202e``), cut to at most ``limit`` characters ending in "..." when longer.

    Printable non-ASCII ("é", "—") stays; backslashes stay as they are. Records keep the exact value:
    this is for showing it only.
    """
    value = str(text)
    if len(value) <= limit and _PLAIN.fullmatch(value):
        return value
    # escaping only lengthens: no more input than ``limit + 1`` characters can show
    pieces = [char if char.isprintable() else _escape(char) for char in value[: limit + 1]]
    if len(value) <= limit and sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    room, kept, used = max(limit - len(ELLIPSIS), 0), [], 0
    for piece in pieces:  # whole escapes only: never half of a ``\x1b``
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + ELLIPSIS[:limit]


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class EscapingFormatter(logging.Formatter):
    """A log formatter that escapes the message (arguments included) and each traceback line.

    A message is one line however it was built, so a unit's string cannot add a line to the log or run
    an escape code on the terminal that shows it; tracebacks keep their lines, each one escaped.
    """

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)  # a copy: other handlers see the record unchanged
        safe.msg, safe.args = printable(record.getMessage(), LOG_LIMIT), None
        safe.exc_text = None  # another handler's formatter may have cached the traceback unescaped
        return super().format(safe)

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's name
        """The traceback's own lines (frames, source, chain notes) each escaped; an exception's type and
        message as one escaped line, since the message may carry a unit's text."""
        if ei[1] is None:
            return super().formatException(ei)
        lines: list[str] = []
        for chunk in traceback.TracebackException(type(ei[1]), ei[1], ei[2]).format():
            if chunk.startswith(("  ", "\n", "Traceback (most recent call last)")):
                lines += chunk.rstrip("\n").split("\n")  # Python's own layout: kept, line by line
            else:
                lines.append(chunk.rstrip("\n"))  # "Type: message": one line whatever it holds
        return "\n".join(printable(line, LOG_LIMIT) for line in lines)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _lines(super().formatStack(stack_info))


def _lines(text: str) -> str:
    return "\n".join(printable(line, LOG_LIMIT) for line in text.splitlines())
