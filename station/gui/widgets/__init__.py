"""The window's widgets: they only show what ``gui/model`` computes."""
