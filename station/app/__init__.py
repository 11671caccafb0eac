"""Building a station from its configuration, the run state, a station's data directory.

>>> from station.app.station import MODES
>>> MODES              # what a station opens for; reader slots run the readers flow, in production only
('production', 'qa', 'rma')
"""
