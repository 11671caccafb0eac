"""What the window shows, as plain Python (no Qt): testable without a display.

>>> from station.gui.model.words import step_title
>>> step_title("verify-lock"), step_title("check-in")
('Lock check', 'Check-in')
"""
