"""The line dashboard (``station line serve``): a read-only web view of the line database (docs/dashboard.md).

>>> from station.dashboard.windows import window
>>> window("shift", now="2025-03-04T14:00:00.000Z").start
'2025-03-04T06:00:00.000Z'
"""
