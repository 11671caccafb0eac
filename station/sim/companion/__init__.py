"""Simulated SpringCard Companion Service (REST, 127.0.0.1) with simulated readers behind it.

Example::

    from station.sim.companion.service import SimulatedCompanion
    from station.sim.companion.timing import profile

    with SimulatedCompanion(readers=2, timing=profile("realistic")) as service:
        service.url                       # "http://127.0.0.1:PORT", for CompanionClient
        reader = service.add_reader()     # plug a reader in at run time
        service.remove_reader(reader.device_id)

Modules: ``service.py`` (the server, the readers, faults, the Python API), ``routes.py`` (routes and the
check order), ``reader.py`` (one reader: identity, registers, lock, restart), ``timing.py`` (profiles).
Validation is ``station.devices.springcore.configdata``, the same code the station uses. Behaviour and every
decision beyond the reference's §11: docs/companion.md.
"""
