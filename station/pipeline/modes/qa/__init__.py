"""QA mode: read-only re-verification of a unit against its latest record.

>>> from station.pipeline.modes.qa.compare import Finding
>>> print(Finding("fwv", "Encedo nGINE FW v1.2.2", "Encedo nGINE FW v1.0.9", "older"))
fwv: record says 'Encedo nGINE FW v1.2.2', unit has 'Encedo nGINE FW v1.0.9' (older)
"""
