"""The operator window (PySide6): tiles per fixture slot, a detail panel, a records view.

Example::

    from station.gui.app import main
    exit_code = main(GuiOptions(demo=True))         # what ``station gui --demo`` runs

The window only reflects what the core reports: the station runs in a worker thread, its events reach the
GUI thread through one bridge (``bridge.py``), and every widget is touched from the GUI thread only.
Modules without Qt (``palette``, ``words``, ``slots``, ``counters``, ``search``) hold what can be tested
without a display. Importing this package does not import Qt.
"""
