"""Bench repairs on a simulated unit: a board whose secure element was replaced by a blank one.

>>> unit = SimulatedPpa(backend_key=bytes(32)); devid, old = unit.devid, unit.state.hardware.genuine_id
>>> new = fit_blank_secure_element(unit)           # same board (devid, flash), new unprovisioned ATECC608
>>> unit.devid == devid, new != old, new[:4], unit.state.se_certificate
(True, True, '0123', None)
"""

from __future__ import annotations

import os
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec

from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.identity import SE_CURVE

ATECC_SERIAL_PREFIX = "0123"  # every ATECC608 serial starts with it (reference §3.1 samples)


def fit_blank_secure_element(unit: SimulatedPpa) -> str:
    """Replace ``unit``'s secure element with a blank one, power-cycle it; returns the new ``genuine_id``."""
    hardware = unit.state.hardware
    genuine_id = ATECC_SERIAL_PREFIX + os.urandom(7).hex()
    unit.state.hardware = replace(hardware, genuine_id=genuine_id, se_key=ec.generate_private_key(SE_CURVE))
    unit.state.se_certificate = None
    unit.reboot_now()
    return genuine_id
