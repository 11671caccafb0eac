"""The station's modes, one flow each, run by the engine in ``pipeline``."""
