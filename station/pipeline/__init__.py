"""The pipeline: a generic engine (steps, outcomes, retries, journal, events) and the flows built on it."""
