"""The bottom layer: errors, events, configuration shape, codecs; imports nothing of the station.

>>> from station.core.errors import DeviceTimeout, StationError
>>> from station.core.events import Outcome
>>> issubclass(DeviceTimeout, StationError), Outcome("pass") is Outcome.PASS
(True, True)
"""
