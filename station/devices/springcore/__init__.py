"""SpringCard readers (SpringCore firmware) through the SpringCard Companion Service REST API.

>>> from station.devices.springcore.configdata import parse_config
>>> flat, sections = parse_config({"0201.s": "Bench 3"}), parse_config({"config": {"01.s": "Bench 3"}})
>>> flat.sha256() == sections.sha256()             # both body forms write the same bytes
True
"""
