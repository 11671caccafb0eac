"""Timing profiles of the Companion simulator by name, scaled, and refused when unknown."""

from __future__ import annotations

import pytest

from station.core.errors import ConfigError
from station.sim.companion.timing import FAST, REALISTIC, profile


def test_profiles_by_name() -> None:
    assert profile("fast") is FAST
    assert profile("realistic") is REALISTIC
    # decision §11.13: the realistic restart sequence; fast is the same at a tenth of the time
    assert (REALISTIC.pre_restart, REALISTIC.restart, REALISTIC.reenumerate) == (0.5, 2.5, 1.0)
    for name in ("simple", "write", "wink", "pre_restart", "restart", "reenumerate"):
        assert getattr(FAST, name) == pytest.approx(getattr(REALISTIC, name) / 10)
    assert 0 < FAST.pre_restart < FAST.restart


def test_scaled_profiles_keep_proportions() -> None:
    quick = profile("realistic*0.5")
    assert quick.restart == pytest.approx(1.25)
    assert quick.reenumerate == pytest.approx(0.5)
    assert quick.wink / quick.write == pytest.approx(REALISTIC.wink / REALISTIC.write)
    assert quick.name == "realisticx0.5"


@pytest.mark.parametrize("name", ["slow", "realistic*", "realistic*-1", "realistic*nan", "fast*inf"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        profile(name)
