"""Outside text is escaped wherever it is shown: ``printable``, the log formatter, the window's slot model.

A unit's string (or any outside text) on a terminal, in a log file or on a tile is one line without
control characters, bounded in length; the records keep the exact value.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time

import pytest

from station.cli.main import log_warnings_to_stderr
from station.core.events import LogLine, Outcome, RunFinished, RunStarted, StepFinished, UnitIdentified
from station.core.text import ELLIPSIS, LIMIT, EscapingFormatter, printable
from station.gui.model.slots import TEXT_LIMIT, SlotModel

FORGED = "PPA rev 2.2\x1b[31m\n  N1  PASS  fakefakefake\x1b[0m"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # the newline included: one line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("PPA rev 2.2", "PPA rev 2.2"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("nul\x00del\x7fcsi\x9b", "nul\\x00del\\x7fcsi\\x9b"),
        ("bidi\u202eeliF", "bidi\\u202eeliF"),
        ("line\u2028sep", "line\\u2028sep"),
        ("Zoë — ✔", "Zoë — ✔"),  # printable non-ASCII stays
        ("C:\\path", "C:\\path"),  # backslashes stay as they are
        (None, "None"),
    ],
)
def test_printable_escapes_every_unprintable_character(text: object, shown: str) -> None:
    assert printable(text) == shown


def test_printable_bounds_the_length_with_an_ellipsis() -> None:
    assert printable("x" * LIMIT) == "x" * LIMIT  # exactly the limit: unchanged
    assert printable("x" * (LIMIT + 1)) == "x" * (LIMIT - len(ELLIPSIS)) + ELLIPSIS
    assert printable("abcdef", limit=5) == "ab..."
    assert len(printable("\x1b" * 1000, limit=10)) <= 10


def test_an_escape_is_never_cut_in_half() -> None:
    assert printable("abcd\x1b", limit=7) == "abcd..."  # "\x1b" does not fit whole before the ellipsis
    assert printable("ab\x1bc", limit=7) == "ab\\x1bc"


def test_a_20_mb_string_is_cut_at_once() -> None:
    started = time.monotonic()
    shown = printable("\x1b" * 20_000_000)
    assert len(shown) <= LIMIT and shown.endswith(ELLIPSIS)
    assert time.monotonic() - started < 1


# --- logs ------------------------------------------------------------------------------------------------


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("station.test", logging.WARNING, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_the_log_formatter_escapes_message_and_arguments() -> None:
    record = _record("unit said %s", FORGED)
    text = EscapingFormatter("%(levelname)s %(message)s").format(record)
    assert text == "WARNING unit said PPA rev 2.2\\x1b[31m\\n  N1  PASS  fakefakefake\\x1b[0m"
    assert record.getMessage() == f"unit said {FORGED}"  # other handlers see the record unchanged


def test_a_traceback_keeps_its_lines_each_escaped() -> None:
    try:
        raise ValueError(FORGED)
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    text = EscapingFormatter("%(message)s").format(record)
    assert text.startswith("failed\nTraceback (most recent call last):\n")
    assert "ValueError: PPA rev 2.2\\x1b[31m\\n  N1  PASS" in text
    assert "\x1b" not in text and "\n  N1  PASS" not in text


def test_a_cached_plain_traceback_is_not_reused() -> None:
    try:
        raise ValueError(FORGED)
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    logging.Formatter("%(message)s").format(record)  # a plain handler ran first and cached its text
    assert "\x1b" not in EscapingFormatter("%(message)s").format(record)


def test_a_chained_traceback_keeps_pythons_lines() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer\nforged") from inner
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    text = EscapingFormatter("%(message)s").format(record)
    assert "\nThe above exception was the direct cause of the following exception:\n" in text
    assert "ValueError: outer\\nforged" in text


def test_the_command_line_logs_warnings_escaped_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log_warnings_to_stderr()
    log_warnings_to_stderr()  # once per process, however often main() runs
    logger = logging.getLogger("station.devices.test")
    logger.warning("unit on %s said %s", "A1", FORGED)
    logger.info("not shown")
    err = capsys.readouterr().err
    assert err == "unit on A1 said PPA rev 2.2\\x1b[31m\\n  N1  PASS  fakefakefake\\x1b[0m\n"


# --- the window ------------------------------------------------------------------------------------------


def test_the_slot_model_shows_a_units_strings_escaped() -> None:
    model = SlotModel("A1")
    model.apply(RunStarted("A1", 1.0, "run-1", "production", steps=("identify",)))
    model.apply(UnitIdentified("A1", 1.0, "run-1", "dev\x1bid"))
    model.apply(LogLine("A1", 1.5, "run-1", "warning", f"identify: {FORGED}"))
    model.apply(StepFinished("A1", 2.0, "run-1", "identify", Outcome.FAIL, 1, 1.0, FORGED))
    model.apply(
        RunFinished("A1", 2.0, "run-1", Outcome.FAIL, "dev\nid", None, "identify", FORGED + "x" * 5000)
    )
    view = model.view(3.0)
    run = model.shown_run(3.0)
    assert run is not None
    shown = [view.unit_id, view.reason, view.instruction, view.note, run.message, *model.log]
    shown += [line.message for line in run.timeline]
    for text in shown:
        assert CONTROL.search(text) is None, text
    assert view.unit_id == "dev\\nid"
    assert len(run.message) <= TEXT_LIMIT
    assert any("fakefakefake" in line for line in model.log)  # shown, escaped: not dropped


def test_the_log_strip_escapes_its_lines() -> None:
    pytest.importorskip("PySide6.QtWidgets")
    from PySide6.QtWidgets import QApplication

    from station.gui.widgets.logstrip import LogStrip

    app = QApplication.instance() or QApplication([])
    assert app is not None
    strip = LogStrip()
    strip.add(LogLine("A1", 0.0, "run-1", "error", FORGED))
    strip.note("window: " + FORGED)
    text = strip.toPlainText()
    assert text.count("\n") == 1 and "\x1b" not in text
    assert (
        io.StringIO(text)
        .readline()
        .rstrip()
        .endswith("PPA rev 2.2\\x1b[31m\\n  N1  PASS  fakefakefake\\x1b[0m")
    )
