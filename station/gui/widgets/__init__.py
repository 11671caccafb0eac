"""The window's widgets: they only show what ``gui/model`` computes.

>>> from station.gui.model.benchmap import bench_map
>>> bench_map(tuple(f"{row}{n}" for row in "ABCD" for n in range(1, 9)))[:2]   # 32 slots: four rows of eight
(4, 8)
"""
