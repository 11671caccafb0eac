"""Simulated SpringCard Companion Service (REST, 127.0.0.1) with simulated readers behind it.

>>> from station.sim.companion.service import SimulatedCompanion
>>> with SimulatedCompanion(readers=2) as service:           # the URL is what CompanionClient talks to
...     reader = service.add_reader(); service.remove_reader(reader.device_id)   # plugged in, then out
...     len(service.readers), service.url.startswith("http://127.0.0.1:")
(2, True)
"""
