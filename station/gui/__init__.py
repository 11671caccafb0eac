"""The operator window (PySide6): login, a tile per fixture slot, a detail panel, records and audit views.

Everything the window shows is computed Qt-free in ``gui/model``, testable without a display:

>>> from station.gui.model.modes import allowed_modes
>>> allowed_modes("operator"), allowed_modes("rma")
(('production',), ('qa', 'rma'))
"""
