"""Bench repairs on a simulated unit: a board whose secure element was replaced by a blank one.

Example::

    unit = SimulatedPpa(backend_key=key).start()
    ...                                          # the unit is produced, shipped and returned
    new_serial = fit_blank_secure_element(unit)  # same board (devid, flash), new unprovisioned ATECC608
    # the RMA station now finds a blank secure element under a devid its records know

An RMA bench sees such boards after a secure-element fault: the ATECC608 is replaced, everything else on
the board stays (``devid``, the flash with its configuration and keys). The new chip has its own serial
(``genuine_id``) and attestation key and no certificate, so attestation offers a CSR again and the
station must provision it. The unit is power-cycled, as after any rework. Call this while no request is
in flight (between runs), as a technician works on an unplugged unit.
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
