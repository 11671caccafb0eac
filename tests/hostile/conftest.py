"""Simulated units here stop promptly (``tests/simstop.py``)."""

from tests.simstop import quick_simulator_stop  # noqa: F401 - autouse
