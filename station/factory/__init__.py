"""The factory authority: check-in time authority, device-certificate CA, firmware images, key custody.

>>> from station.factory.firmware import needs_upgrade
>>> needs_upgrade("Encedo nGINE FW v1.2", "Encedo nGINE FW v1.2.3")    # the unit is upgraded first
True
"""
