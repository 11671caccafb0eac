"""QA mode: read-only re-verification of a unit against its latest record."""
