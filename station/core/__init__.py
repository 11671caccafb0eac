"""The bottom layer: errors, events, configuration shape, codecs; imports nothing of the station."""
