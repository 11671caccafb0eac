"""What the window shows, as plain Python (no Qt): testable without a display."""
