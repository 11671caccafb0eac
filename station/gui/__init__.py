"""The operator window (PySide6): login, tiles per fixture slot, a detail panel, records and audit views.

Example::

    from station.gui.app import main
    exit_code = main(GuiOptions(demo=True))         # what ``station gui --demo`` runs

The window only reflects what the core reports: the station runs in a worker thread, its events reach the
GUI thread through one bridge (``bridge.py``), and every widget is touched from the GUI thread only.
Logins, mode changes, reprints and the audit log go through one access worker thread
(``accessworker.py``); a login or mode switch reopens the station off the GUI thread (``host.py``).
Modules without Qt (``palette``, ``words``, ``verdicts``, ``modes``, ``slots``, ``counters``, ``search``,
``accounts``, ``opener``, ``passphrases``, ``windowsetup``) hold what can be tested without a display.
Importing this package does not import Qt.
"""
