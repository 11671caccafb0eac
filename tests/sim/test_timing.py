"""Timing profile names: ``fast``, ``realistic`` and the benchmark's scaled form ``realistic*0.25``."""

from __future__ import annotations

import pytest

from station.core.errors import ConfigError
from station.sim.ppa.timing import FAST, REALISTIC, profile


def test_plain_names_return_the_profiles_themselves() -> None:
    assert profile("fast") is FAST
    assert profile("realistic") is REALISTIC


def test_a_star_factor_scales_every_duration() -> None:
    scaled = profile("realistic*0.25")
    assert scaled == REALISTIC.scaled(0.25)
    assert scaled.auth == pytest.approx(REALISTIC.auth * 0.25)
    assert scaled.reboot == pytest.approx(REALISTIC.reboot * 0.25)
    assert scaled.name == "realisticx0.25"


def test_spaces_around_the_star_are_accepted() -> None:
    assert profile("realistic * 2") == REALISTIC.scaled(2.0)


@pytest.mark.parametrize("factor", ["", "abc", "0", "-1", "nan", "inf"])
def test_a_bad_factor_is_a_config_error_naming_the_name(factor: str) -> None:
    with pytest.raises(ConfigError, match="must be a positive number") as raised:
        profile(f"realistic*{factor}")
    assert f"realistic*{factor}" in str(raised.value)


def test_an_unknown_base_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown timing profile 'slow\\*2'; choose one of fast, realistic"):
        profile("slow*2")
