"""Timing profiles of the Companion simulator by name, scaled, and refused when unknown."""

from __future__ import annotations

import pytest

from station.core.errors import ConfigError
from station.sim.companion.timing import FAST, REALISTIC, profile


def test_profiles_by_name() -> None:
    assert profile("fast") is FAST
    assert profile("realistic") is REALISTIC
    assert (FAST.write, FAST.restart) == (0.0, 0.0)
    assert REALISTIC.restart == pytest.approx(0.3)  # decision §11.10


def test_scaled_profiles_keep_proportions() -> None:
    quick = profile("realistic*0.5")
    assert quick.restart == pytest.approx(0.15)
    assert quick.wink / quick.write == pytest.approx(REALISTIC.wink / REALISTIC.write)
    assert quick.name == "realisticx0.5"


@pytest.mark.parametrize("name", ["slow", "realistic*", "realistic*-1", "realistic*nan", "fast*inf"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        profile(name)
