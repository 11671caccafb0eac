"""Clients of the device families' REST APIs and what both share (the HTTP edge, strict JSON)."""
