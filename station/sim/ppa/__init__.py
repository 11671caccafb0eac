"""The simulated Encedo PPA: one unit per ``SimulatedPpa`` (device.py), many with ``fleet.start_fleet``.

>>> from station.sim.ppa.device import SimulatedPpa
>>> SimulatedPpa(backend_key=bytes(32)).state.initialised       # factory-fresh; ``start()`` serves it
False
"""
