"""Clients of the device families' REST APIs and what both share (the HTTP edge, strict JSON).

>>> from station.devices.http import JsonReply
>>> JsonReply.decode("GET", "/devices", b"[]")          # a PPA reply and a Companion reply are read alike
Traceback (most recent call last):
station.core.errors.DeviceProtocolError: GET /devices: reply is a list, not a JSON object
"""
