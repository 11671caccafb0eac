"""Tile states and their colours: a word, an icon and a colour each, so a state reads without colour too.

>>> style = STYLES[TileState.FAIL]; style.word, style.icon
('FAIL', '✖')
>>> contrast_ratio(style.text, style.background) >= MIN_CONTRAST      # WCAG 2 AA for normal text
True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MIN_CONTRAST = 4.5  # WCAG 2 AA, normal-size text


class TileState(StrEnum):
    """What a tile shows; one per slot (docs/ui.md)."""

    EMPTY = "empty"
    WAITING = "waiting"
    RUNNING = "running"
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ATTENTION = "attention"


@dataclass(frozen=True)
class Style:
    word: str
    icon: str
    background: str
    text: str


STYLES: dict[TileState, Style] = {
    TileState.EMPTY: Style("EMPTY", "○", background="#3B4252", text="#ECEFF4"),
    TileState.WAITING: Style("WAITING", "◌", background="#4C5F7A", text="#FFFFFF"),
    TileState.RUNNING: Style("RUNNING", "▶", background="#1E4FA8", text="#FFFFFF"),
    TileState.PASS: Style("PASS", "✔", background="#17773A", text="#FFFFFF"),
    TileState.FAIL: Style("FAIL", "✖", background="#B42318", text="#FFFFFF"),
    TileState.ATTENTION: Style("ATTENTION", "!", background="#F5A524", text="#1A1200"),
}

# The window around the tiles: dark and quiet, so the tiles that need the operator stand out.
WINDOW_BACKGROUND = "#161B22"
WINDOW_TEXT = "#E6EDF3"
HEADER_BACKGROUND = "#0D1117"
MUTED_TEXT = "#9DA7B3"
FOCUS_RING = "#FFD33D"
BANNER = Style("STOPPED", "!", background="#F5A524", text="#1A1200")
BUTTON = "#2D3440"
FIELD_BACKGROUND = "#F6F8FA"  # the badge field: light, so the operator finds it at a glance
FIELD_TEXT = "#0D1117"
FIELD_PLACEHOLDER = "#57606A"
VERIFIED_TEXT = "#7EE2A8"  # "verified" in the detail panel, on the window background
UNVERIFIED_TEXT = "#FF9B94"  # "verification FAILED"

# Pairs of (text, background) the window draws text with, besides the tiles; tests check them all.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    (WINDOW_TEXT, WINDOW_BACKGROUND),
    (WINDOW_TEXT, HEADER_BACKGROUND),
    (MUTED_TEXT, HEADER_BACKGROUND),
    (MUTED_TEXT, WINDOW_BACKGROUND),
    (BANNER.text, BANNER.background),
    (WINDOW_TEXT, BUTTON),
    (MUTED_TEXT, BUTTON),
    (FIELD_TEXT, FIELD_BACKGROUND),
    (FIELD_PLACEHOLDER, FIELD_BACKGROUND),
    ("#FFFFFF", STYLES[TileState.RUNNING].background),
    (VERIFIED_TEXT, WINDOW_BACKGROUND),
    (UNVERIFIED_TEXT, WINDOW_BACKGROUND),
)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not #RRGGBB")
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
