"""The pipeline: a generic engine (steps, outcomes, retries, journal, events) and the flows built on it.

>>> from station.core.errors import DeviceTimeout
>>> from station.pipeline.engine import SAFE_RETRY          # for steps that write nothing to the unit
>>> SAFE_RETRY.attempts, SAFE_RETRY.retries(DeviceTimeout("no reply")), SAFE_RETRY.retries(ValueError())
(3, True, False)
"""
