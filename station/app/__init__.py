"""Building a station from its configuration, the run state, a station's data directory."""
