"""Every state reads without colour (its own word and icon) and its text is legible on its colour."""

from __future__ import annotations

import pytest

from station.gui.model.palette import (
    FOCUS_RING,
    MIN_CONTRAST,
    MIN_STATE_CONTRAST,
    MIN_VERDICT_CONTRAST,
    SIMULATIONS,
    STYLES,
    TEXT_PAIRS,
    TileState,
    contrast_ratio,
    simulated_luminance,
    state_contrasts,
)


@pytest.mark.parametrize("state", list(TileState))
def test_tile_text_contrast_is_at_least_4_5_to_1(state: TileState) -> None:
    style = STYLES[state]
    assert contrast_ratio(style.text, style.background) >= MIN_CONTRAST


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_window_text_contrast_is_at_least_4_5_to_1(text: str, background: str) -> None:
    assert contrast_ratio(text, background) >= MIN_CONTRAST


def test_each_state_has_its_own_word_icon_pattern_and_colour() -> None:
    styles = [STYLES[state] for state in TileState]
    for attribute in ("word", "icon", "background", "pattern"):
        values = [getattr(style, attribute) for style in styles]
        assert len(set(values)) == len(values), attribute


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)


BACKGROUNDS = {state.value: style.background for state, style in STYLES.items()}
OLD_VERDICTS = {"pass": "#17773A", "fail": "#B42318"}  # the palette before issue 18


@pytest.mark.parametrize("simulation", list(SIMULATIONS))
def test_every_two_states_differ_in_luminance_for_every_viewer(simulation: str) -> None:
    """Under deuteranopia, protanopia and greyscale every pair of states keeps MIN_STATE_CONTRAST."""
    for contrast, seen_as, first, second in state_contrasts(BACKGROUNDS):
        if seen_as == simulation:
            assert contrast >= MIN_STATE_CONTRAST, f"{first}/{second} under {simulation}: {contrast:.2f}"


@pytest.mark.parametrize("simulation", list(SIMULATIONS))
def test_the_verdicts_read_apart_by_lightness_alone(simulation: str) -> None:
    passed = simulated_luminance(STYLES[TileState.PASS].background, simulation)
    failed = simulated_luminance(STYLES[TileState.FAIL].background, simulation)
    assert (max(passed, failed) + 0.05) / (min(passed, failed) + 0.05) >= MIN_VERDICT_CONTRAST


def test_the_old_pass_and_fail_colours_fail_the_same_check() -> None:
    """Issue 18: #17773A and #B42318 became one olive under deuteranopia (0.127 vs 0.138)."""
    worst = min(contrast for contrast, *_ in state_contrasts(OLD_VERDICTS))
    assert worst < MIN_STATE_CONTRAST
    deuteranopia = [c for c, seen_as, *_ in state_contrasts(OLD_VERDICTS) if seen_as == "deuteranopia"]
    assert deuteranopia[0] == pytest.approx(1.06, abs=0.01)


def test_the_simulations_match_published_values() -> None:
    """Machado et al. map pure red to a dark olive for protanopes; grey is the luminance itself."""
    assert simulated_luminance("#FFFFFF", "deuteranopia") == pytest.approx(1.0, abs=0.01)
    assert simulated_luminance("#FF0000", "protanopia") < simulated_luminance("#FF0000", "greyscale")
    assert simulated_luminance("#777777", "greyscale") == pytest.approx(0.184, abs=0.001)


def test_the_focus_ring_is_no_state_colour() -> None:
    """The ring is white and black: unlike ATTENTION's amber (the old ring was yellow) or any fill."""
    fills = {style.background.upper() for style in STYLES.values()}
    assert not fills & {colour.upper() for colour in FOCUS_RING}
    for style in STYLES.values():  # two tones: one of them stands out 3:1 (WCAG 1.4.11) on any tile
        assert max(contrast_ratio(colour, style.background) for colour in FOCUS_RING) >= 3.0
