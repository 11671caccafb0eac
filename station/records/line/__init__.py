"""The line database: the station's link to it, pushing records, the sync state.

>>> from station.records.line.sync import Refusal, SyncReport
>>> report = SyncReport(sent=7, refused=[Refusal("line1-st01", 8, "rec-8", "signature does not verify")])
>>> report.ok, str(report.refused[0])              # a refused record stays here; later ones wait behind it
(False, 'station line1-st01 seq 8 record rec-8: signature does not verify')
"""
