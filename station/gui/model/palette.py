"""Tile states: a word, an icon, a pattern and a colour each, and a luminance step between every two
states that survives colour blindness and greyscale (``MIN_STATE_CONTRAST``; docs/ui.md says why).

>>> fail = STYLES[TileState.FAIL]; fail.pattern, contrast_ratio(fail.text, fail.background) >= MIN_CONTRAST
('hatch', True)
>>> worst_state_contrast() >= MIN_STATE_CONTRAST
True
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

MIN_CONTRAST = 4.5  # WCAG 2 AA, normal-size text

# How far apart two states' backgrounds must be in luminance (WCAG 2 contrast ratio), under every
# simulation in ``SIMULATIONS``. Why these numbers:
# - WCAG 2 SC 1.4.1 (Use of Color) wants a cue besides colour: each state has its own word, icon and
#   pattern. Luminance is then a third cue, the one that survives colour blindness and grey screens.
# - For a distinction carried by colour alone WCAG asks 3:1 (technique G183; SC 1.4.11 for components).
#   The verdict pair is held to that: PASS and FAIL must read apart across the bench by lightness alone.
# - Eight states between near-black and white (each keeping 4.5:1 text) leave at most 16.9^(1/7) ≈ 1.5
#   between neighbours; 1.3:1 is the step this palette keeps under all three simulations. The old
#   PASS #17773A / FAIL #B42318 pair had 1.06:1 under deuteranopia (one olive): well below either.
MIN_STATE_CONTRAST = 1.3
MIN_VERDICT_CONTRAST = 3.0


class TileState(StrEnum):
    """What a tile shows; one per slot (docs/ui.md, docs/operator.md)."""

    EMPTY = "empty"
    WAITING = "waiting"
    RUNNING = "running"
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ATTENTION = "attention"
    FAULT = "fault"  # the station could not finish the unit: set it aside, call the line engineer
    OFFLINE = "offline"  # the slot's fixture does not respond: check the cable / hub


@dataclass(frozen=True)
class Style:
    word: str
    icon: str
    background: str
    text: str
    # The second cue, drawn by tile.py: "" (RUNNING: its progress bar) | outline (thin dashed edge) |
    # frame (solid edge) | tick (a large check mark) | hatch (diagonal lines, heavy border) | stripes
    # (hazard bands top and bottom) | cross (cross-hatch, heavy border) | dashes (heavy dashed edge).
    pattern: str = ""


STYLES: dict[TileState, Style] = {
    TileState.EMPTY: Style("EMPTY", "○", background="#060709", text="#C9D1D9", pattern="outline"),
    TileState.WAITING: Style("WAITING", "◌", background="#7E8F9C", text="#0B0D10", pattern="frame"),
    TileState.RUNNING: Style("RUNNING", "▶", background="#152740", text="#FFFFFF"),
    TileState.PASS: Style("PASS", "✔", background="#3AC662", text="#07150C", pattern="tick"),
    TileState.FAIL: Style("FAIL", "✖", background="#912110", text="#FFFFFF", pattern="hatch"),
    TileState.ATTENTION: Style("ATTENTION", "!", background="#F9D079", text="#1A1200", pattern="stripes"),
    TileState.FAULT: Style("FAULT", "⚠", background="#9B3B9A", text="#FFFFFF", pattern="cross"),
    TileState.OFFLINE: Style("OFFLINE", "⊘", background="#F7F7F7", text="#111111", pattern="dashes"),
}
ASKING = ("?", "ANSWER")  # an ATTENTION tile whose unit waits for an answer now, not a finished one

# Colour-vision simulations, as 3x3 matrices on linear RGB (Machado, Oliveira & Fernandes 2009, severity
# 1.0); greyscale is the relative luminance itself.
Matrix = tuple[tuple[float, float, float], ...]
SIMULATIONS: dict[str, Matrix | None] = {
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "greyscale": None,
}

# The window around the tiles: dark and quiet, so the tiles that need the operator stand out.
WINDOW_BACKGROUND = "#161B22"
WINDOW_TEXT = "#E6EDF3"
HEADER_BACKGROUND = "#0D1117"
MUTED_TEXT = "#9DA7B3"
FOCUS_RING = ("#FFFFFF", "#000000")  # white outside, black inside: no state looks like it
BANNER = Style("STOPPED", "!", background="#F5A524", text="#1A1200")
FAULT_BANNER = Style("FAULT", "⚠", background="#9B3B9A", text="#FFFFFF")
HIGHLIGHT = "#1E4FA8"  # selections and default buttons (the former RUNNING blue)
DESTRUCTIVE = "#B42318"  # a button whose choice cannot be undone (wipe through the backend)
OK_TEXT = "#7EE2A8"  # a header chip that is fine
WARN_TEXT = "#FFC53D"  # a header chip that needs a look
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
    ("#FFFFFF", HIGHLIGHT),
    (VERIFIED_TEXT, WINDOW_BACKGROUND),
    (UNVERIFIED_TEXT, WINDOW_BACKGROUND),
    (FAULT_BANNER.text, FAULT_BANNER.background),
    ("#FFFFFF", DESTRUCTIVE),
    (OK_TEXT, HEADER_BACKGROUND),
    (WARN_TEXT, HEADER_BACKGROUND),
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


def _linear(colour: str) -> tuple[float, float, float]:
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not #RRGGBB")
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def simulated_luminance(colour: str, simulation: str) -> float:
    """Relative luminance of ``colour`` as a viewer with ``simulation`` (see ``SIMULATIONS``) sees it."""
    red, green, blue = _linear(colour)
    matrix = SIMULATIONS[simulation]
    if matrix is not None:
        red, green, blue = (
            min(1.0, max(0.0, row[0] * red + row[1] * green + row[2] * blue)) for row in matrix
        )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def luminance_contrast(first: float, second: float) -> float:
    lighter, darker = max(first, second), min(first, second)
    return (lighter + 0.05) / (darker + 0.05)


def state_contrasts(backgrounds: Mapping[str, str]) -> list[tuple[float, str, str, str]]:
    """(contrast, simulation, state, state) for every pair of ``backgrounds`` under every simulation."""
    pairs = []
    for simulation in SIMULATIONS:
        seen = {name: simulated_luminance(colour, simulation) for name, colour in backgrounds.items()}
        for first, second in itertools.combinations(seen, 2):
            pairs.append((luminance_contrast(seen[first], seen[second]), simulation, first, second))
    return pairs


def worst_state_contrast(backgrounds: Mapping[str, str] | None = None) -> float:
    """The smallest luminance step between two states' backgrounds, over all simulations."""
    colours = backgrounds or {state.value: style.background for state, style in STYLES.items()}
    return min(contrast for contrast, *_ in state_contrasts(colours))
