"""Who may do what at this station: accounts, roles, PIN login and the signed station audit log.

Records say what happened to a unit; this package says who was at the station and what they could do.

>>> from station.access.roles import allowed
>>> allowed("operator", "mode.production"), allowed("operator", "unit.wipe")
(True, False)
"""
