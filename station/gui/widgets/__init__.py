"""The window's widgets: they only show what ``gui/model`` computes.

>>> from station.gui.widgets.grid import columns_for
>>> columns_for(32, 1600, 900)            # 32 tiles in a 1600 x 900 grid: four rows of eight
8
"""
