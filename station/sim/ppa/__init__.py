"""The simulated Encedo PPA (see device.py)."""
