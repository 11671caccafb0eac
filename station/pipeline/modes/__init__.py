"""The station's modes, one flow each, run by the engine in ``pipeline``.

>>> from station.pipeline.modes import production, readers
>>> from station.pipeline.modes.qa.flow import QaFlow; from station.pipeline.modes.rma.flow import RmaFlow
>>> [flow.mode for flow in (production.ProductionFlow, readers.ReadersFlow, QaFlow, RmaFlow)]
['production', 'readers', 'qa', 'rma']
"""
