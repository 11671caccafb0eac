"""Every state reads without colour (its own word and icon) and its text is legible on its colour."""

from __future__ import annotations

import pytest

from station.gui.model.palette import MIN_CONTRAST, STYLES, TEXT_PAIRS, TileState, contrast_ratio


@pytest.mark.parametrize("state", list(TileState))
def test_tile_text_contrast_is_at_least_4_5_to_1(state: TileState) -> None:
    style = STYLES[state]
    assert contrast_ratio(style.text, style.background) >= MIN_CONTRAST


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_window_text_contrast_is_at_least_4_5_to_1(text: str, background: str) -> None:
    assert contrast_ratio(text, background) >= MIN_CONTRAST


def test_each_state_has_its_own_word_icon_and_colour() -> None:
    styles = [STYLES[state] for state in TileState]
    for attribute in ("word", "icon", "background"):
        values = [getattr(style, attribute) for style in styles]
        assert len(set(values)) == len(values), attribute


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
