"""Work off the GUI thread, and the bridges that bring its results back as Qt signals.

>>> from station.gui.workers.host import Target
>>> Target("qa", operator=None).mode                 # what the next station is opened for
'qa'
"""
